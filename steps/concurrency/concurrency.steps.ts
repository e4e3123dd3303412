import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { AppendResult } from '../../src/index';
import { numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The disk's counters before the callers started, and what the run saw (the appends' outcomes are the world's appendOutcomes: the I/O-error steps read them). */
const callersRun = scenarioState(() => ({
  datasyncsBefore: 0,
  writesBefore: 0,
  /** Most events queued at once. */
  maxQueued: 0,
  /** Whether the first trickled append was acknowledged before the last was made. */
  firstAckedBeforeLast: false,
}));

/** Starts `callers` appends in the same tick, sampling the queue after each call. */
function startCallers(world: EventfoldWorld, callers: number): Promise<PromiseSettledResult<AppendResult>[]> {
  callersRun(world).datasyncsBefore = world.disk?.calls.datasync ?? 0;
  callersRun(world).writesBefore = world.disk?.calls.write ?? 0;
  const store = world.store!;
  let maxQueued = 0;
  const appends: Promise<AppendResult>[] = [];
  for (let i = 0; i < callers; i++) {
    appends.push(store.append(`caller-${i}`, numberedEvents(1, i)));
    maxQueued = Math.max(maxQueued, store.pendingEvents);
  }
  const sampling = appends.map((p) =>
    p.finally(() => {
      maxQueued = Math.max(maxQueued, store.pendingEvents);
    }),
  );
  return Promise.allSettled(sampling).then((outcomes) => {
    callersRun(world).maxQueued = maxQueued;
    return outcomes;
  });
}

When('{int} callers each append {int} event to their own stream at the same time', async function (this: EventfoldWorld, callers: number, _each: number) {
  this.appendOutcomes = await startCallers(this, callers);
});

When('{int} callers each append 1 event to their own stream and the store is closed at once', async function (this: EventfoldWorld, callers: number) {
  const outcomes = startCallers(this, callers);
  await this.store!.close();
  this.appendOutcomes = await outcomes;
  this.store = undefined;
});

When('{int} events trickle in, one every millisecond, without waiting for each other', async function (this: EventfoldWorld, count: number) {
  callersRun(this).datasyncsBefore = this.disk!.calls.datasync;
  const appends: Promise<AppendResult>[] = [];
  let firstAckedBeforeLast = false;
  let madeAll = false;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const append = this.store!.append('trickle', numberedEvents(1, appends.length));
      if (appends.length === 0) append.then(() => (firstAckedBeforeLast = !madeAll));
      appends.push(append);
      if (appends.length === count) {
        madeAll = true;
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  this.appendOutcomes = await Promise.allSettled(appends);
  callersRun(this).firstAckedBeforeLast = firstAckedBeforeLast;
});

Then(/^all (\d+) appends succeed(?: with the distinct positions (\d+) to (\d+))?$/, function (this: EventfoldWorld, count: string, p0?: string, p1?: string) {
  const outcomes = this.appendOutcomes!;
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  expect(failures.map((f) => String(f.reason))).to.deep.equal([]);
  expect(outcomes).to.have.length(Number(count));
  if (p0) {
    const positions = outcomes.map((o) => (o as PromiseFulfilledResult<AppendResult>).value.position).sort((a, b) => a - b);
    expect(positions[0]).to.equal(Number(p0));
    expect(positions[positions.length - 1]).to.equal(Number(p1));
    expect(new Set(positions).size).to.equal(Number(count));
  }
});

/** `at most N` (at least once), `more than N`, or exactly N fdatasyncs since the appends began; `at most` also reports the figures. */
Then(/^the log was fsynced (at most |more than )?(\d+) times for those appends$/, async function (this: EventfoldWorld, bound: string | null | undefined, count: string) {
  const fsyncs = this.disk!.calls.datasync - callersRun(this).datasyncsBefore;
  const expected = Number(count);
  if (bound === 'more than ') {
    expect(fsyncs).to.be.greaterThan(expected);
  } else if (bound !== 'at most ') {
    expect(fsyncs).to.equal(expected);
  } else {
    expect(fsyncs).to.be.within(1, expected);
    const group = 'group commit: appends acknowledged vs fsyncs made';
    await this.figures(
      { name: 'appends acknowledged', value: this.appendOutcomes!.length, unit: 'appends', group },
      { name: 'fsyncs made', value: fsyncs, unit: 'fsyncs', group },
    );
  }
});

Then('the log was written in {int} batches of {int} events', function (this: EventfoldWorld, batches: number, _size: number) {
  // With a cap of `size` events per batch, `batches` writes for batches × size events means every batch was full.
  expect(this.disk!.calls.write - callersRun(this).writesBefore).to.equal(batches);
});

Then('the first append was acknowledged before the last one was made', function (this: EventfoldWorld) {
  expect(callersRun(this).firstAckedBeforeLast).to.equal(true);
});

Then('the queue never held more than {int} events', function (this: EventfoldWorld, max: number) {
  expect(callersRun(this).maxQueued).to.be.within(1, max);
});
