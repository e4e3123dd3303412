import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, type AppendResult, type EventInput, type Projection } from '../../src/index';
import type { LogAppend, LogReplay } from '../../src/engine/event-log';
import { openFileLog } from '../../src/file-log/open-file-log';
import { LOCK_FILE, SNAPSHOT_DIR, SYSTEM_STREAMS_MARKER } from '../../src/store-layout';
import { readStoreOptions } from '../../src/validate/options';
import { collect } from '../support/events';
import { hashTree } from '../support/file-hashes';
import { parseExpectation } from '../support/appends';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Appends in flight, a read-only store beside the writer, and stores of earlier versions. */
const inFlight = scenarioState(() => ({
  /** What each copy of a batch sent at once returned. */
  copies: undefined as AppendResult[] | undefined,
  /** An append and a hard delete sent at once, as they settled. */
  race: undefined as PromiseSettledResult<unknown>[] | undefined,
  /** The appends sent without waiting, each with its index, copy number and result. */
  sent: undefined as Array<{ i: number; copy: number; result: AppendResult }> | undefined,
  /** Each try of an append that waited for room and one called after it: what each returned. */
  tries: undefined as Array<{ first: string; second: string }> | undefined,
  /** A read-only store open beside the writer. */
  reader: undefined as EventStore | undefined,
  /** The store's files (all but LOCK, which an open takes) before this version opened it. */
  filesBefore: undefined as Record<string, string> | undefined,
}));

// ---- appends in flight ----

When('{int} copies of the batch {string} are sent to {string} at once, expecting {}', async function (this: EventfoldWorld, copies: number, id: string, stream: string, expectation: string) {
  const expectedVersion = parseExpectation(expectation);
  const sent = Array.from({ length: copies }, () => this.store!.append(stream, [{ type: 'Paid', id, data: { amount: 10 } }], { expectedVersion }));
  inFlight(this).copies = await Promise.all(sent);
});

Then('every copy returns position {int} and version {int}', function (this: EventfoldWorld, position: number, version: number) {
  for (const result of inFlight(this).copies!) expect(result).to.deep.equal({ position, version });
});

Then('{string} holds {int} events, {string} once', async function (this: EventfoldWorld, stream: string, count: number, id: string) {
  const events = await collect(this.store!.readStream(stream));
  expect(events).to.have.length(count);
  expect(events.filter((e) => e.id === id)).to.have.length(1);
});

When('these appends to {string} are sent without waiting in between:', async function (this: EventfoldWorld, stream: string, table: DataTable) {
  const sent = table.hashes().map((row) => this.store!.append(stream, [{ type: row.type, ...(row.id ? { id: row.id } : {}) }]));
  await Promise.all(sent);
});

Then('{string} reads, from version {int}: {}', async function (this: EventfoldWorld, stream: string, from: number, types: string) {
  const events = await collect(this.store!.readStream(stream, { from }));
  expect(events.map((e) => e.type)).to.deep.equal(types.split(', '));
});

/**
 * A full queue (maxQueueEvents 3, in memory: every disk call is a microtask,
 * so the same interleaving happens every time): the first append waits for
 * room; the second is called once an earlier append is acknowledged, plus
 * `later` microtask turns — the window where the first was let in but had
 * not yet taken its place.
 */
async function appendAfterOneThatWaited(stream: string, later: number): Promise<{ first: string; second: string }> {
  const store = await EventStore.inMemory({ maxQueueEvents: 3 });
  const outcome = (sent: Promise<AppendResult>) => sent.then((result) => `version ${result.version}`, (error: Error) => error.constructor.name);
  try {
    store.append('other', [{ type: 'Noted', id: 'n-0' }]);
    const earlier = store.append('other', [{ type: 'Noted' }]);
    for (let turn = 0; turn < 5; turn++) await null;
    const opening = store.append(stream, [{ type: 'Opened' }, { type: 'Sent' }]);
    store.append('other', [{ type: 'Noted' }]);
    const first = outcome(store.append(stream, [{ type: 'Paid' }], { expectedVersion: 1 }));
    await earlier;
    for (let turn = 0; turn < later; turn++) await null;
    const second = outcome(store.append(stream, [{ type: 'Closed' }], { expectedVersion: 2 }));
    await opening;
    return { first: await first, second: await second };
  } finally {
    await store.close();
  }
}

When('on a store whose queue holds 3 events, {string} at version 1 is sent an append expecting version 1 while the queue is full, and then another expecting version 2', async function (this: EventfoldWorld, stream: string) {
  const tries = [];
  for (let later = 0; later <= 6; later++) tries.push(await appendAfterOneThatWaited(stream, later));
  inFlight(this).tries = tries;
});

Then('in all {int} tries the first was written at version {int} and the second at version {int}', function (this: EventfoldWorld, count: number, first: number, second: number) {
  const tries = inFlight(this).tries!;
  expect(tries).to.have.length(count);
  for (const each of tries) expect(each).to.deep.equal({ first: `version ${first}`, second: `version ${second}` });
});

When('{string} is sent an append with the id {string} and then a deletion for good, without waiting in between', async function (this: EventfoldWorld, stream: string, id: string) {
  inFlight(this).race = await Promise.allSettled([this.store!.append(stream, [{ type: 'Added', id }]), this.store!.deleteStream(stream, { hard: true })]);
});

Then('the append returned version {int} and the deletion succeeded', function (this: EventfoldWorld, version: number) {
  const [append, deletion] = inFlight(this).race!;
  expect(append).to.deep.equal({ status: 'fulfilled', value: { position: version, version } });
  expect(deletion.status).to.equal('fulfilled');
});

When('{int} appends to {string} are sent at once, every third with an id and sent twice in a row', async function (this: EventfoldWorld, count: number, stream: string) {
  const sent: Array<{ i: number; copy: number; result: Promise<AppendResult> }> = [];
  for (let i = 0; i < count; i++) {
    const withId = i % 3 === 0;
    const batch = (): EventInput[] => [{ type: 'Step', data: { i }, ...(withId ? { id: `step-${i}` } : {}) }];
    sent.push({ i, copy: 1, result: this.store!.append(stream, batch()) });
    if (withId) sent.push({ i, copy: 2, result: this.store!.append(stream, batch()) });
  }
  inFlight(this).sent = await Promise.all(sent.map(async (s) => ({ ...s, result: await s.result })));
});

Then('{string} holds the {int} events in call order, each once', async function (this: EventfoldWorld, stream: string, count: number) {
  const events = await collect(this.store!.readStream(stream));
  expect(events.map((e) => (e.data as { i: number }).i)).to.deep.equal(Array.from({ length: count }, (_, i) => i));
});

Then('every second copy returned the first copy\'s position and version', function (this: EventfoldWorld) {
  const sent = inFlight(this).sent!;
  const seconds = sent.filter((s) => s.copy === 2);
  expect(seconds.length).to.be.greaterThan(0);
  for (const second of seconds) expect(second.result).to.deep.equal(sent.find((s) => s.i === second.i && s.copy === 1)!.result);
});

// ---- projections and the store's own events ----

/** Counts what it folds; refuses a type it does not know (the application's own vocabulary). */
const strictCount: Projection<{ n: number }> = {
  version: 1,
  initialState: { n: 0 },
  evolve: (draft, event) => {
    if (event.type !== 'Deposited') throw new Error(`unknown event type ${event.type}`);
    draft.n++;
  },
};

Given('a new store with a projection that counts the events it folds and refuses types it does not know', async function (this: EventfoldWorld) {
  this.storeOptions = { ...this.storeOptions, projections: { count: strictCount } };
  await this.openStore();
});

Then('the projection has folded {int} events', function (this: EventfoldWorld, n: number) {
  expect(this.store!.state('count')).to.deep.equal({ n });
});

Then('the open started from a snapshot and the projection has folded {int} events', function (this: EventfoldWorld, n: number) {
  expect(this.store!.recovery.snapshot.used).to.not.equal(null);
  expect(this.store!.state('count')).to.deep.equal({ n });
});

When('the store is closed and opened again without its snapshots', async function (this: EventfoldWorld) {
  await this.store!.close();
  rmSync(join(this.storeDir, SNAPSHOT_DIR), { recursive: true, force: true });
  await this.openStore();
});

Then('the open replayed the whole log and the projection has folded {int} events', function (this: EventfoldWorld, n: number) {
  expect(this.store!.recovery.snapshot.used).to.equal(null);
  expect(this.store!.recovery.eventsReplayed).to.equal(this.store!.position + 1);
  expect(this.store!.state('count')).to.deep.equal({ n });
});

Given('a read-only store is opened alongside it', async function (this: EventfoldWorld) {
  inFlight(this).reader = await EventStore.open(this.storeDir, { readOnly: true, projections: { count: strictCount } });
});

When('the read-only store takes in the writer\'s new events', async function (this: EventfoldWorld) {
  await inFlight(this).reader!.refresh();
});

Then('the read-only store\'s projection has folded {int} events', async function (this: EventfoldWorld, n: number) {
  const reader = inFlight(this).reader!;
  try {
    expect(reader.state('count')).to.deep.equal({ n });
  } finally {
    await reader.close();
  }
});

// ---- stores of earlier versions ----

/** The store's files but its LOCK (an open writes its owner note there whatever it decides). */
function dataFiles(dir: string): Record<string, string> {
  const { [LOCK_FILE]: _lock, ...rest } = hashTree(dir);
  return rest;
}

const NO_REPLAY: LogReplay = { foldsEvents: false, restoreSnapshot: () => undefined, replay: () => undefined, finishReplay: () => undefined };

/**
 * Writes what an earlier version wrote: the same record format, through the
 * log alone (the earlier engine let any stream name through), and without
 * the SYSTEM-STREAMS marker (earlier versions never wrote one).
 */
async function writeEarlierVersionStore(world: EventfoldWorld, streams: Array<{ stream: string; events: EventInput[] }>): Promise<void> {
  const log = await openFileLog(readStoreOptions(world.storeDir, {}), NO_REPLAY);
  const appends: LogAppend[] = streams.map(({ stream, events }) => ({ stream, events: events as LogAppend['events'], expectedVersion: 'any' }));
  for (const outcome of await log.append(appends)) if (outcome instanceof Error) throw outcome;
  await log.close();
  unlinkSync(join(world.storeDir, SYSTEM_STREAMS_MARKER));
}

Given(/^a store written by an earlier version, with (\d+) events? in "([^"]+)"(?: and (\d+) events? in "([^"]+)" whose data is (.+))?$/, async function (this: EventfoldWorld, n: string, stream: string, m?: string, legacy?: string, data?: string) {
  const streams = [{ stream, events: Array.from({ length: Number(n) }, (_, i) => ({ type: 'Placed', data: { i } })) }];
  if (legacy) streams.push({ stream: legacy, events: Array.from({ length: Number(m) }, () => ({ type: 'AuditEntry', data: JSON.parse(data!) })) });
  await writeEarlierVersionStore(this, streams);
  inFlight(this).filesBefore = dataFiles(this.storeDir);
});

When(/^this version opens the store( read-only)?$/, async function (this: EventfoldWorld, readOnly: string | null | undefined) {
  this.store = await this.capture(() => EventStore.open(this.storeDir, readOnly ? { readOnly: true } : {}));
});

Then('the open was refused with a LegacyStreamNamesError naming {string}', function (this: EventfoldWorld, stream: string) {
  const error = this.lastError as { name?: string; streams?: string[]; message?: string };
  expect(error?.name, String(error)).to.equal('LegacyStreamNamesError');
  expect(error.streams).to.deep.equal([stream]);
  expect(error.message).to.contain('To upgrade');
});

Then('the store\'s files are unchanged', function (this: EventfoldWorld) {
  expect(dataFiles(this.storeDir)).to.deep.equal(inFlight(this).filesBefore);
});

Then('no stream is listed', function (this: EventfoldWorld) {
  expect(this.store!.streams()).to.deep.equal([]);
});



// ---- a deleted stream's version ----

Then('the version of {string} is {int}', function (this: EventfoldWorld, stream: string, version: number) {
  expect(this.store!.streamVersion(stream)).to.equal(version);
});

Then('asking for the version of {string} is refused with a StreamDeletedError', function (this: EventfoldWorld, stream: string) {
  expect(() => this.store!.streamVersion(stream)).to.throw().with.property('name', 'StreamDeletedError');
});
