import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { AppendResult, ExpectedVersion, ReadStreamOptions, RecordedEvent } from '../../src/index';
import { collect, readAllEvents } from '../support/events';
import { appendVia, parseExpectation } from '../support/appends';
import { queryDatabase } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Idempotent appends, a moved clock, and appends racing a hard delete. */
const lifecycleSteps = scenarioState(() => ({
  /** The first attempt of an append a retry repeats. */
  firstResult: undefined as AppendResult | undefined,
  /** What the two copies of an append sent at once returned. */
  both: undefined as AppendResult[] | undefined,
  /** Puts Date.now back after "the clock moves forward". */
  restoreClock: undefined as (() => void) | undefined,
  /** An append, a hard delete and another append sent at once, as they settled. */
  race: undefined as PromiseSettledResult<AppendResult | void>[] | undefined,
}));

/** '"a", "b" and "c"' → events with those ids */
function eventsWithIds(list: string) {
  return [...list.matchAll(/"([^"]+)"/g)].map((m, i) => ({ id: m[1], type: 'Placed', data: { line: i } }));
}

Given(/^"([^"]+)" appended the events (.+) expecting (.+)$/, async function (this: EventfoldWorld, stream: string, ids: string, expectation: string) {
  lifecycleSteps(this).firstResult = await this.store!.append(stream, eventsWithIds(ids), { expectedVersion: parseExpectation(expectation) });
});

When(/^"([^"]+)" appends the events (.+?)(?: again)? expecting (.+)$/, async function (this: EventfoldWorld, stream: string, ids: string, expectation: string) {
  await appendVia(this, stream, eventsWithIds(ids), parseExpectation(expectation));
});

When('{string} sends the events {string} and {string} twice at the same time, expecting no stream', async function (this: EventfoldWorld, stream: string, a: string, b: string) {
  const send = () => this.store!.append(stream, eventsWithIds(`"${a}" and "${b}"`), { expectedVersion: 'no_stream' as ExpectedVersion });
  lifecycleSteps(this).both = await Promise.all([send(), send()]);
});

Then('the retry returns position {int} and version {int}, like the first attempt', function (this: EventfoldWorld, position: number, version: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.lastResult).to.deep.equal({ position, version });
  expect(this.lastResult).to.deep.equal(lifecycleSteps(this).firstResult);
});

Then('both appends return position {int} and version {int}', function (this: EventfoldWorld, position: number, version: number) {
  expect(lifecycleSteps(this).both!).to.deep.equal([{ position, version }, { position, version }]);
});

// ---- metadata and retention ----

function parseMetadata(text: string): Record<string, unknown> {
  if (text.startsWith('{')) return JSON.parse(text) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const part of text.split(/ and (?=\w+ )/)) {
    const [, key, value] = /^(\w+) (.+?)(?: ms)?$/.exec(part)!;
    metadata[key] = key === 'custom' ? JSON.parse(value) : Number(value);
  }
  return metadata;
}

async function readVersions(world: EventfoldWorld, stream: string, options: ReadStreamOptions = {}): Promise<number[]> {
  return (await collect(world.store!.readStream(stream, options))).map((e) => e.version);
}

Given(/^the metadata of "([^"]+)" is set to (.+)$/, async function (this: EventfoldWorld, stream: string, text: string) {
  await this.capture(() => this.store!.setStreamMetadata(stream, parseMetadata(text)));
});

Given('the clock moves forward by {int} hours', async function (this: EventfoldWorld, hours: number) {
  const realNow = Date.now;
  const shift = hours * 3_600_000;
  Date.now = () => realNow() + shift;
  lifecycleSteps(this).restoreClock = () => (Date.now = realNow);
  // On PostgreSQL a scavenge judges age by the server's clock, which no step can move: the stored events age
  // by the same hours instead (for every clock, the time since each event grows by `hours`).
  if (this.database) await queryDatabase(this.database, 'UPDATE eventfold_events SET timestamp_ms = timestamp_ms - $1', [shift]);
});

After(function (this: EventfoldWorld) {
  lifecycleSteps(this).restoreClock?.();
});

Then(/^reading "([^"]+)" (forward|backward)(?: from version (\d+))? returns (\d+) events, versions (\d+) to (\d+)$/, async function (this: EventfoldWorld, stream: string, direction: 'forward' | 'backward', from: string | undefined, count: string, first: string, last: string) {
  const versions = await readVersions(this, stream, { direction, ...(from ? { from: Number(from) } : {}) });
  expect(versions).to.have.length(Number(count));
  const step = Number(first) <= Number(last) ? 1 : -1;
  expect(versions).to.deep.equal(Array.from({ length: Number(count) }, (_, i) => Number(first) + i * step));
});

Then('folding {string} with aggregateStream counts {int} events', async function (this: EventfoldWorld, stream: string, count: number) {
  const folded = await this.store!.aggregateStream(stream, { initialState: { n: 0 }, evolve: (draft) => void draft.n++ });
  expect(folded.n).to.equal(count);
});

Then('a new subscription receives {int} events', async function (this: EventfoldWorld, count: number) {
  const received: RecordedEvent[] = [];
  const subscription = await this.store!.subscribe('retention-reader', (event) => void received.push(event));
  await subscription.waitFor(this.store!.position);
  await subscription.stop();
  expect(received).to.have.length(count);
});

Then(/^the metadata of "([^"]+)" (?:says|reads back as) (.+)$/, function (this: EventfoldWorld, stream: string, text: string) {
  expect(this.store!.getStreamMetadata(stream)).to.deep.equal(parseMetadata(text));
});

When(/^(an append to|a read of|setting metadata on|deleting) "([^"]+)" is tried$/, async function (this: EventfoldWorld, action: string, stream: string) {
  const store = this.store!;
  await this.capture(async () => {
    if (action === 'an append to') await store.append(stream, [{ type: 'Sneaky' }]);
    else if (action === 'a read of') await collect(store.readStream(stream));
    else if (action === 'setting metadata on') await store.setStreamMetadata(stream, { maxCount: 1 });
    else await store.deleteStream(stream);
  });
});

// ---- deletion ----

When(/^"([^"]+)" is deleted( for good)?(?: expecting (.+))?$/, async function (this: EventfoldWorld, stream: string, hard: string | undefined, expectation: string | undefined) {
  await this.capture(() => this.store!.deleteStream(stream, { hard: Boolean(hard), ...(expectation ? { expectedVersion: parseExpectation(expectation) } : {}) }));
});

Then('reading {string} forward returns 0 events', async function (this: EventfoldWorld, stream: string) {
  expect(await readVersions(this, stream)).to.deep.equal([]);
  expect(await readVersions(this, stream, { direction: 'backward' })).to.deep.equal([]);
});

Then('the streams listed are {string}', function (this: EventfoldWorld, names: string) {
  expect(this.store!.streams()).to.deep.equal(names.split(/, | and /));
});

When('{string} appends 1 event, is deleted for good and appends 1 event, all at once', async function (this: EventfoldWorld, stream: string) {
  const store = this.store!;
  lifecycleSteps(this).race = await Promise.allSettled([store.append(stream, [{ type: 'Before' }]), store.deleteStream(stream, { hard: true }), store.append(stream, [{ type: 'After' }])]);
});

Then('the first append returned version {int} and the last was rejected with a StreamDeletedError', function (this: EventfoldWorld, version: number) {
  const [first, deletion, last] = lifecycleSteps(this).race!;
  expect(first).to.deep.equal({ status: 'fulfilled', value: { position: version, version } });
  expect(deletion.status).to.equal('fulfilled');
  expect(last.status).to.equal('rejected');
  expect(((last as PromiseRejectedResult).reason as Error).name).to.equal('StreamDeletedError');
});

// ---- info ----

Then('the reclaimable bytes it shows are those of {int} of the store\'s events', function (this: EventfoldWorld, count: number) {
  const stdout = this.cli!.stdout;
  const [, bytes, events] = /reclaimable:\s+(\d+) bytes \((\d+) removed events/.exec(stdout)!;
  expect(Number(events)).to.equal(count);
  // A numbered event takes about 113 bytes of log (64-byte record header, names, a 16-byte id, its data).
  const perEvent = Number(bytes) / count;
  expect(perEvent).to.be.within(100, 130);
});
