import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import * as errors from '../../src/errors';
import { EventStore, SimulatedDisk, type RecordedEvent } from '../../src/index';
import { appendVia, inMemoryStore, numberList, parseExpectation } from '../support/appends';
import { assertGapless, collect, numberedEvents, readAllEvents } from '../support/events';
import { logBytes, segmentPaths } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** What the append-and-read steps appended and read back. */
const appendsAndReads = scenarioState(() => ({
  /** The events of the last two-event append, as given. */
  appended: [] as Array<{ type: string; data: unknown }>,
  /** The events the last read returned, and the pages' sizes and bounds of a paged read. */
  read: [] as RecordedEvent[],
  pageSizes: [] as number[],
  readFrom: { from: 0, limit: 0 },
  /** Every event of the store, read back whole. */
  all: [] as RecordedEvent[],
  /** What each of several `next()` calls asked of one read at once answered. */
  answers: [] as Array<IteratorResult<RecordedEvent>>,
  /** How many streams were written, and how many events each. */
  expectedStreams: 0,
  expectedEach: 0,
}));

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** "a new store on a simulated disk" is the shorthand of "the store lives on a simulated disk" and "a new store". */
Given(/^a new store( on a simulated disk)?$/, async function (this: EventfoldWorld, simulated: string | null) {
  if (simulated) this.disk = new SimulatedDisk();
  await this.openStore();
});

Given('a new in-memory store', async function (this: EventfoldWorld) {
  this.store = await EventStore.inMemory();
  inMemoryStore(this).inMemory = true;
});

Given(/^"([^"]+)" has (no|\d+) events?$/, async function (this: EventfoldWorld, stream: string, count: string) {
  if (count === 'no') return;
  await this.store!.append(stream, numberedEvents(Number(count)));
});

Given('{int} streams have {int} events each', async function (this: EventfoldWorld, streams: number, each: number) {
  // Interleave the streams so that the global order differs from stream order.
  for (let round = 0; round < each; round += 10) {
    for (let s = 0; s < streams; s++) {
      const count = Math.min(10, each - round);
      await this.store!.append(`stream-${s}`, numberedEvents(count, round));
    }
  }
  appendsAndReads(this).expectedStreams = streams;
  appendsAndReads(this).expectedEach = each;
});

When('{string} appends {int} events {string} and {string} expecting no stream', async function (this: EventfoldWorld, stream: string, _n: number, first: string, second: string) {
  const appended = (appendsAndReads(this).appended = [
    { type: first, data: { owner: 'ann' } },
    { type: second, data: { amount: 5 } },
  ]);
  await appendVia(this, stream, appended, 'no_stream');
});

When(/^"([^"]+)" appends (\d+) events?(?: expecting (.+))?$/, async function (this: EventfoldWorld, stream: string, count: string, expectation?: string) {
  await appendVia(this, stream, numberedEvents(Number(count)), expectation ? parseExpectation(expectation) : undefined);
});

When('all events are read from position {int} with a limit of {int}', async function (this: EventfoldWorld, from: number, limit: number) {
  appendsAndReads(this).read = await collect(this.store!.readAll({ from, limit }));
});

When('all events are read a page at a time from position {int} with a limit of {int}', async function (this: EventfoldWorld, from: number, limit: number) {
  const pages: RecordedEvent[][] = [];
  for await (const page of this.store!.readAllPages({ from, limit })) pages.push(page);
  const state = appendsAndReads(this);
  state.pageSizes = pages.map((page) => page.length);
  state.read = pages.flat();
  state.readFrom = { from, limit };
});

Then('they are the events that reading one at a time returns', async function (this: EventfoldWorld) {
  const { read, readFrom: { from, limit } } = appendsAndReads(this);
  expect(read).to.deep.equal(await collect(this.store!.readAll({ from, limit })));
});

When('{int} events are asked of one full read at once, without waiting for any answer', async function (this: EventfoldWorld, asks: number) {
  const read = this.store!.readAll();
  appendsAndReads(this).answers = await Promise.all(Array.from({ length: asks }, () => read.next()));
});

Then('the answers are the events with positions {int} to {int} in order, then the end of the read', function (this: EventfoldWorld, first: number, last: number) {
  const { answers } = appendsAndReads(this);
  expect(answers.slice(0, -1).map((answer) => (answer.done ? 'end' : answer.value.position))).to.deep.equal(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  expect(answers[answers.length - 1].done).to.equal(true);
});

Then('every page holds between {int} and {int} events', function (this: EventfoldWorld, least: number, most: number) {
  const sizes = appendsAndReads(this).pageSizes;
  expect(sizes.length, 'pages').to.be.greaterThan(1);
  for (const size of sizes) expect(size).to.be.within(least, most);
});

When('stream {string} is read backward with a limit of {int}', async function (this: EventfoldWorld, stream: string, limit: number) {
  appendsAndReads(this).read = await collect(this.store!.readStream(stream, { direction: 'backward', limit }));
});

When('stream {string} is read forward from version {int}', async function (this: EventfoldWorld, stream: string, from: number) {
  appendsAndReads(this).read = await collect(this.store!.readStream(stream, { from }));
});

When('the store is closed and opened again', async function (this: EventfoldWorld) {
  await this.store!.close();
  await this.openStore();
});

When('the store is closed', async function (this: EventfoldWorld) {
  await this.store!.close();
});

When('the same directory is opened again', async function (this: EventfoldWorld) {
  await this.capture(() => EventStore.open(this.storeDir, this.disk ? { fs: this.disk } : {}));
});

When('{int} callers append to {string} expecting version {int} at the same time', async function (this: EventfoldWorld, callers: number, stream: string, version: number) {
  const outcomes = await Promise.allSettled(range(1, callers).map(() => this.store!.append(stream, numberedEvents(1), { expectedVersion: version })));
  this.appendOutcomes = outcomes;
});

When('{string} appends {int} events of which event {int} holds a function', async function (this: EventfoldWorld, stream: string, count: number, bad: number) {
  const events = numberedEvents(count);
  events[bad - 1] = { type: 'Broken', data: { callback: () => 1 } };
  await appendVia(this, stream, events);
});

Then('the append returns position {int} and version {int}', function (this: EventfoldWorld, position: number, version: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.lastResult).to.deep.equal({ position, version });
});

Then('the append returns version {int}', function (this: EventfoldWorld, version: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.lastResult?.version).to.equal(version);
});

Then(
  'reading stream {string} returns {int} events with versions {int} to {int} and positions {int} to {int}',
  async function (this: EventfoldWorld, stream: string, count: number, v0: number, v1: number, p0: number, p1: number) {
    const events = await collect(this.store!.readStream(stream));
    expect(events).to.have.length(count);
    expect(events.map((e) => e.version)).to.deep.equal(range(v0, v1));
    expect(events.map((e) => e.position)).to.deep.equal(range(p0, p1));
    expect(events.every((e) => e.stream === stream)).to.equal(true);
    appendsAndReads(this).read = events;
  },
);

Then('reading stream {string} returns {int} events', async function (this: EventfoldWorld, stream: string, count: number) {
  expect(await collect(this.store!.readStream(stream))).to.have.length(count);
});

Then('each event read back has its type, data, a unique id and a timestamp', function (this: EventfoldWorld) {
  const { read: events, appended } = appendsAndReads(this);
  events.forEach((event, i) => {
    expect(event.type).to.equal(appended[i].type);
    expect(event.data).to.deep.equal(appended[i].data);
    expect(event.id).to.match(/^[0-9a-f-]{36}$/);
    expect(event.timestamp).to.be.within(Date.now() - 60_000, Date.now());
    expect(event.metadata).to.equal(null);
  });
  expect(new Set(events.map((e) => e.id)).size).to.equal(events.length);
});

/**
 * What readAll returns: how many events, and either every position from p0 to p1 without a gap, or (retention
 * hides some) how many of two streams, in ascending positions.
 */
Then(
  /^reading all events returns (\d+) events(?: with positions (\d+) to (\d+)|: (\d+) of "([^"]+)" and (\d+) of "([^"]+)")?$/,
  async function (this: EventfoldWorld, count: string, p0: string | null, p1: string | null, a: string | null, streamA: string | null, b: string | null, streamB: string | null) {
    const events = await readAllEvents(this.store!);
    expect(events).to.have.length(Number(count));
    if (p0 != null) {
      assertGapless(events);
      expect(events[0]?.position).to.equal(Number(p0));
      expect(events[events.length - 1]?.position).to.equal(Number(p1));
      appendsAndReads(this).all = events;
    }
    if (a != null) {
      expect(events.filter((e) => e.stream === streamA)).to.have.length(Number(a));
      expect(events.filter((e) => e.stream === streamB)).to.have.length(Number(b));
      for (let i = 1; i < events.length; i++) expect(events[i].position).to.be.greaterThan(events[i - 1].position);
    }
  },
);

Then('stream {string} has versions {int} to {int} at positions {}', async function (this: EventfoldWorld, stream: string, v0: number, v1: number, positions: string) {
  const events = await collect(this.store!.readStream(stream));
  expect(events.map((e) => e.version)).to.deep.equal(range(v0, v1));
  expect(events.map((e) => e.position)).to.deep.equal(numberList(positions));
});

Then('{int} events are returned with positions {int} to {int}', function (this: EventfoldWorld, count: number, p0: number, p1: number) {
  const events = appendsAndReads(this).read;
  expect(events).to.have.length(count);
  expect(events.map((e) => e.position)).to.deep.equal(range(p0, p1));
});

Then('the events returned have versions {}', function (this: EventfoldWorld, versions: string) {
  expect(appendsAndReads(this).read.map((e) => e.version)).to.deep.equal(numberList(versions));
});

Then(/^the recovery report says the last shutdown was (clean|not clean)$/, function (this: EventfoldWorld, state: string) {
  expect(this.store!.recovery.cleanShutdown).to.equal(state === 'clean');
});

Then(/^after reopening the recovery report says the last shutdown was (clean|not clean)$/, async function (this: EventfoldWorld, state: string) {
  await this.openStore();
  expect(this.store!.recovery.cleanShutdown).to.equal(state === 'clean');
});

Then('the log is made of more than {int} segment files', async function (this: EventfoldWorld, count: number) {
  expect((await segmentPaths(this)).length).to.be.greaterThan(count);
});

Then("every event's content matches what was appended", function (this: EventfoldWorld) {
  const { all: events, expectedStreams, expectedEach } = appendsAndReads(this);
  const seen = new Map<string, number>();
  for (const event of events) {
    const next = seen.get(event.stream) ?? 0;
    expect(event.version, `version in ${event.stream}`).to.equal(next);
    expect(event.data).to.deep.equal({ seq: next, amount: next % 97 });
    seen.set(event.stream, next + 1);
  }
  expect(seen.size).to.equal(expectedStreams);
  for (const count of seen.values()) expect(count).to.equal(expectedEach);
});

/**
 * Every typed refusal, said one way: "the last append was rejected with an InvalidInputError saying "…"".
 * The error is of exactly that exported class, and its message holds the text when one is given.
 */
Then(/^the (?:last append|open|call|checkpoint) was rejected with an? (\w+)(?: saying "(.*)")?$/, function (this: EventfoldWorld, errorClass: string, text: string | null | undefined) {
  const exported = (errors as Record<string, unknown>)[errorClass];
  expect(exported, `${errorClass} is an error class eventfold exports`).to.be.a('function');
  expect(this.lastError, `a ${errorClass} was expected`).to.be.instanceOf(exported as new () => Error);
  expect((this.lastError as Error).name).to.equal(errorClass);
  if (text != null) expect((this.lastError as Error).message).to.contain(text);
});

Then('the error says version {word} was expected and the actual version is {int}', function (this: EventfoldWorld, expected: string, actual: number) {
  const error = this.lastError as { expected: unknown; actual: number };
  expect(String(error.expected)).to.equal(expected);
  expect(error.actual).to.equal(actual);
});

Then('no byte was written to the log', async function (this: EventfoldWorld) {
  expect(await logBytes(this)).to.equal(this.logBytesBefore);
});

Then('exactly {int} append succeeds and {int} are rejected with an ExpectedVersionConflictError', function (this: EventfoldWorld, ok: number, rejected: number) {
  const outcomes = this.appendOutcomes!;
  expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(ok);
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  expect(failures).to.have.length(rejected);
  for (const failure of failures) expect(failure.reason.name).to.equal('ExpectedVersionConflictError');
});

Then('stream {string} ends at version {int}', function (this: EventfoldWorld, stream: string, version: number) {
  expect(this.store!.streamVersion(stream)).to.equal(version);
});

/** The owner it names: this test process, or the child process that holds (or held) the store. */
Then(/^the open was rejected with a StoreLockedError naming (this process|the child process)$/, function (this: EventfoldWorld, owner: string) {
  expect((this.lastError as Error)?.name).to.equal('StoreLockedError');
  const pid = owner === 'this process' ? process.pid : this.childOwnerPid;
  expect((this.lastError as { ownerPid: number }).ownerPid).to.equal(pid);
  expect((this.lastError as Error).message).to.contain(`locked by process ${pid}`);
});
