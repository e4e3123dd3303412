import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CorruptionError, EventStore, SimulatedDisk, type DiskOperation, type PowerLossPolicy, type Projection, type StoreOptions } from '../../src/index';
import { AT_FLAGS } from '../../src/log/record-layout';
import { segmentName } from '../../src/log/segment-file';
import { checkpointFile, decodeCheckpoint } from '../../src/snapshot/checkpoint-file';
import { LOG_DIR, quarantineDirOf, REPAIR_RECORD, snapshotDirOf } from '../../src/store-layout';
import { collect, numberedEvents } from '../support/events';
import { recordSpans } from '../support/damage';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * The repair of a damaged store on the simulated disk, cut by a power loss at
 * each disk operation it makes, then opened again and again. Every run ends
 * with the same store: the events before the damage, every event appended
 * after the repair, projection states equal to a fold of the log, no snapshot
 * and no subscription checkpoint past the repaired end.
 */
const DIR = '/store';
const CHANGES: DiskOperation[] = ['write', 'datasync', 'create', 'rename', 'unlink', 'syncDir', 'truncate'];
const FSYNCS: DiskOperation[] = ['datasync', 'syncDir'];
const POLICIES: Record<string, PowerLossPolicy> = {
  'drops every unsynced write': 'drop-unsynced',
  'keeps every unsynced write': 'keep-unsynced',
  'keeps only half of the last unsynced write': { tearLastWriteFraction: 0.5 },
};

interface Totals {
  count: number;
  sum: number;
}

const totals: Projection<Totals> = {
  version: 1,
  initialState: { count: 0, sum: 0 },
  evolve(draft, event) {
    draft.count++;
    draft.sum += (event.data as { amount: number }).amount;
  },
};

function options(disk: SimulatedDisk, extra: StoreOptions = {}): StoreOptions {
  return { fs: disk, projections: { totals }, snapshotEvery: 0, ...extra };
}

interface Setup {
  disk: SimulatedDisk;
  events: number;
  damagedRecord: number;
  /** The subscription that had handled every event before the damage. */
  subscription: string;
}

Given(
  'a store on a simulated disk with {int} events, a checkpoint, and subscription {string} that handled all of them',
  async function (this: EventfoldWorld, count: number, name: string) {
    const disk = new SimulatedDisk();
    const store = await EventStore.open(DIR, options(disk));
    for (let i = 0; i < count; i++) await store.append(`stream-${i % 7}`, numberedEvents(1, i));
    await store.checkpoint();
    const subscription = await store.subscribe(name, () => undefined, { from: -1, checkpointEvery: 1 });
    await subscription.waitFor(count - 1);
    await subscription.stop();
    await store.close();
    repairRuns(this).setup = { disk, events: count, damagedRecord: 0, subscription: name };
  },
);

When('one bit flips in record {int} of that store', function (this: EventfoldWorld, n: number) {
  const setup = repairRuns(this).setup!;
  // One segment: the stores here are small.
  const path = `${DIR}/${LOG_DIR}/${segmentName(0)}`;
  const bytes = setup.disk.peek(path);
  const span = recordSpans(bytes)[n - 1];
  // One bit of the record's flags byte, which its header CRC covers.
  bytes[span.offset + AT_FLAGS] ^= 0x10;
  setup.disk.overwrite(path, bytes);
  setup.damagedRecord = n;
});

/** The disk calls a repairing open makes, in order (from a clean run on a copy). */
async function repairTrace(setup: Setup): Promise<Array<{ op: DiskOperation; path: string }>> {
  const disk = setup.disk.clone();
  const trace: Array<{ op: DiskOperation; path: string }> = [];
  disk.trace = trace;
  const store = await EventStore.open(DIR, options(disk, { repair: 'truncate' }));
  disk.trace = undefined;
  await store.close();
  return trace;
}

/** Cuts the power at the `index`-th call of `trace` (counting calls of its kind) during `action`; returns the disk as it comes back. */
async function cutAt(disk: SimulatedDisk, trace: Array<{ op: DiskOperation }>, index: number, policy: PowerLossPolicy, action: (disk: SimulatedDisk) => Promise<unknown>): Promise<SimulatedDisk> {
  const point = trace[index];
  const after = trace.slice(0, index).filter((call) => call.op === point.op).length;
  disk.inject({ op: point.op, after, powerLoss: true });
  const outcome = await action(disk).then(
    () => 'finished',
    (error: Error) => error,
  );
  expect(disk.isDead, `the power cut at call ${index} (${point.op}) must have happened: ${String(outcome)}`).to.equal(true);
  return disk.powerLoss(policy);
}

interface RunResult {
  cut: string;
  resumed: boolean;
  repairedAgain: boolean;
}

/** What the repair steps of one scenario share. */
const repairRuns = scenarioState(() => ({
  /** The store before the damage, kept on its own disk: each run works on a clone. */
  setup: undefined as Setup | undefined,
  runs: [] as RunResult[],
  /** The disk as it came back after the power was cut during a repair. */
  afterCut: undefined as SimulatedDisk | undefined,
}));

/**
 * After the cut: a plain open (which finishes a recorded repair); if the
 * repair was never recorded the log is still damaged, so the operator runs it
 * again. Then the store must be the repaired one, take new events, and keep
 * converging over further opens.
 */
async function settleAndCheck(world: EventfoldWorld, disk: SimulatedDisk, setup: Setup, cut: string, more: number): Promise<RunResult> {
  const kept = setup.damagedRecord - 1;
  const name = setup.subscription;
  let store!: EventStore;
  let repairedAgain = false;
  // A plain open either finishes the recorded repair, or — when it was never recorded — meets the damage
  // itself: at once, or (under the snapshot) in its background check. Then the operator repairs again.
  let problem: unknown;
  try {
    store = await EventStore.open(DIR, options(disk));
    problem = (await store.verified()).problem;
    if (problem) await store.close();
  } catch (error) {
    problem = error;
  }
  if (problem) {
    expect(problem, `${cut}: a plain open may only fail on the damage itself`).to.be.instanceOf(CorruptionError);
    expect((problem as CorruptionError).file, cut).to.match(/^log\//);
    store = await EventStore.open(DIR, options(disk, { repair: 'truncate' }));
    repairedAgain = true;
  }
  const resumed = store.recovery.quarantine?.resumedAfterCrash === true;
  expect(store.position, `${cut}: events kept by the repair`).to.equal(kept - 1);
  await expectFolded(store, cut);
  const snapshots = await disk.readdir(snapshotDirOf(DIR)).catch(() => []);
  expect(snapshots.filter((n) => n.endsWith('.snap')), `${cut}: no snapshot past the repaired end`).to.deep.equal([]);
  const checkpoint = decodeCheckpoint(disk.peek(`${DIR}/${checkpointFile(name)}`));
  expect(checkpoint, `${cut}: checkpoint reset to the repaired end`).to.deep.equal({ position: kept - 1 });
  for (let i = 0; i < more; i++) await store.append(`after-${i % 3}`, numberedEvents(1, kept - 1 + i + 1));
  const handled: number[] = [];
  const subscription = await store.subscribe(name, (event) => void handled.push(event.position));
  await subscription.waitFor(kept - 1 + more);
  await subscription.stop();
  expect(handled, `${cut}: the subscription gets every new event exactly once`).to.deep.equal(Array.from({ length: more }, (_, i) => kept + i));
  await store.checkpoint();
  await store.close();
  for (let round = 0; round < 2; round++) {
    const again = await EventStore.open(DIR, options(disk));
    expect(again.position, `${cut}: reopen ${round}`).to.equal(kept - 1 + more);
    expect(again.recovery.quarantine, `${cut}: nothing left to repair`).to.equal(null);
    await expectFolded(again, `${cut}: reopen ${round}`);
    const health = await again.verified();
    expect(health.log, `${cut}: reopen ${round}`).to.equal('verified');
    await again.close();
  }
  return { cut, resumed, repairedAgain };
}

/** The projection equals a fold of the log, and every event is the one appended at its position. */
async function expectFolded(store: EventStore, cut: string): Promise<void> {
  const events = await collect(store.readAll());
  const folded = { count: 0, sum: 0 };
  events.forEach((event, i) => {
    expect(event.position, cut).to.equal(i);
    expect((event.data as { seq: number }).seq, `${cut}: content of position ${i}`).to.equal(i);
    folded.count++;
    folded.sum += (event.data as { amount: number }).amount;
  });
  expect(store.state<Totals>('totals'), `${cut}: projection state`).to.deep.equal(folded);
}

When('the repair is cut by a power loss at each of its disk operations in turn and the disk {}', async function (this: EventfoldWorld, keeps: string) {
  const setup = repairRuns(this).setup!;
  const trace = (await repairTrace(setup)).filter((call) => CHANGES.includes(call.op));
  const results: RunResult[] = [];
  for (let i = 0; i < trace.length; i++) {
    const cut = `cut at call ${i} (${trace[i].op} ${trace[i].path})`;
    const after = await cutAt(setup.disk.clone(), trace, i, POLICIES[keeps], (disk) => EventStore.open(DIR, options(disk, { repair: 'truncate' })));
    results.push(await settleAndCheck(this, after, setup, cut, 60));
  }
  repairRuns(this).runs = results;
});

When('the repair is cut at each of its fsync points, and the open that finishes it is cut at each of its own', async function (this: EventfoldWorld) {
  const setup = repairRuns(this).setup!;
  const trace = (await repairTrace(setup)).filter((call) => FSYNCS.includes(call.op));
  const results: RunResult[] = [];
  for (let i = 0; i < trace.length; i++) {
    const cutRepair = (disk: SimulatedDisk) => EventStore.open(DIR, options(disk, { repair: 'truncate' }));
    const afterFirst = await cutAt(setup.disk.clone(), trace, i, 'drop-unsynced', cutRepair);
    // The calls the next (plain) open makes, from a copy.
    const probe = afterFirst.clone();
    const second: Array<{ op: DiskOperation; path: string }> = [];
    probe.trace = second;
    const opened = await EventStore.open(DIR, options(probe)).catch(() => null);
    probe.trace = undefined;
    await opened?.close();
    if (!opened) continue; // Nothing was recorded yet: the plain open fails on the damage and changes nothing.
    const points = second.filter((call) => FSYNCS.includes(call.op));
    for (let j = 0; j < points.length; j++) {
      const cut = `repair cut at fsync ${i} (${trace[i].op} ${trace[i].path}), its finishing cut at fsync ${j} (${points[j].op} ${points[j].path})`;
      const afterSecond = await cutAt(afterFirst.clone(), points, j, 'drop-unsynced', (disk) => EventStore.open(DIR, options(disk)));
      results.push(await settleAndCheck(this, afterSecond, setup, cut, 10));
    }
  }
  repairRuns(this).runs = results;
});

Then('every run ends with the first {int} events, then the {int} appended after the repair, each intact', function (this: EventfoldWorld, _kept: number, _more: number) {
  // Checked run by run in settleAndCheck (positions, contents, projection folds); here, that there were runs.
  expect(repairRuns(this).runs.length).to.be.greaterThan(0);
});

Then('some runs were finished by the plain open from the repair record, and the others by repairing again', async function (this: EventfoldWorld) {
  const runs = repairRuns(this).runs;
  const resumed = runs.filter((r) => r.resumed).length;
  const again = runs.filter((r) => r.repairedAgain).length;
  expect(resumed, 'runs finished from the repair record').to.be.greaterThan(0);
  expect(again, 'runs cut before the repair was recorded').to.be.greaterThan(0);
  await this.figures(
    { name: 'power cuts during the repair', value: runs.length, unit: 'runs' },
    { name: 'finished from the repair record by a plain open', value: resumed, unit: 'runs' },
    { name: 'cut before the repair was recorded', value: again, unit: 'runs' },
  );
});

Then('every run converged on that store', async function (this: EventfoldWorld) {
  const runs = repairRuns(this).runs;
  expect(runs.length).to.be.greaterThan(0);
  await this.figures({ name: 'double power cuts (repair, then its finishing open)', value: runs.length, unit: 'runs' });
});

When('the power is cut during the repair just after its record is written', async function (this: EventfoldWorld) {
  const setup = repairRuns(this).setup!;
  const disk = setup.disk.clone();
  // The first rename inside the quarantine folder after the record: the cut bytes' copy.
  disk.inject({ op: 'rename', path: '-from-', powerLoss: true });
  await EventStore.open(DIR, options(disk, { repair: 'truncate' })).then(
    () => expect.fail('the power cut must stop the repair'),
    () => undefined,
  );
  repairRuns(this).afterCut = disk.powerLoss('keep-unsynced');
  this.disk = repairRuns(this).afterCut;
});

When('the repair record is damaged', function (this: EventfoldWorld) {
  const disk = repairRuns(this).afterCut!;
  const path = `${quarantineDirOf(DIR)}/${REPAIR_RECORD}`;
  const bytes = disk.peek(path);
  bytes[bytes.length - 5] ^= 0x01;
  disk.overwrite(path, bytes);
});

When('the store is opened plainly', async function (this: EventfoldWorld) {
  await this.capture(() => EventStore.open(DIR, options(repairRuns(this).afterCut!)).then((s) => (this.store = s)));
});

Then('the open fails with a CorruptionError naming the repair record and saying {string}', function (this: EventfoldWorld, text: string) {
  expect(this.lastError).to.be.instanceOf(CorruptionError);
  expect((this.lastError as CorruptionError).file).to.equal('quarantine/REPAIR');
  expect((this.lastError as Error).message).to.contain(text);
});

When('the store is opened read-only', async function (this: EventfoldWorld) {
  await this.capture(() => EventStore.open(DIR, options(repairRuns(this).afterCut!, { readOnly: true })).then((s) => (this.store = s)));
});

Then('after a plain open the store converges as if nothing had been interrupted', async function (this: EventfoldWorld) {
  const result = await settleAndCheck(this, repairRuns(this).afterCut!, repairRuns(this).setup!, 'read-only first', 20);
  expect(result.resumed, 'the plain open finished the recorded repair').to.equal(true);
});

Then('after a repairing open the store converges as if nothing had been interrupted', async function (this: EventfoldWorld) {
  const setup = repairRuns(this).setup!;
  const disk = repairRuns(this).afterCut!;
  const store = await EventStore.open(DIR, options(disk, { repair: 'truncate' }));
  await store.close();
  this.store = undefined;
  await settleAndCheck(this, disk, setup, 'damaged repair record', 20);
});

// A subscription across a repair, on the real disk.

Given('a store with {int} events, one per append, and subscription {string} that handled all of them', async function (this: EventfoldWorld, count: number, name: string) {
  const store = await this.openStore();
  for (let i = 0; i < count; i++) await store.append(`stream-${i % 7}`, numberedEvents(1, i));
  const subscription = await store.subscribe(name, () => undefined, { from: -1, checkpointEvery: 1 });
  await subscription.waitFor(count - 1);
  await subscription.stop();
  await store.close();
  this.store = undefined;
});

Then('the recovery report says checkpoint {string} was reset from position {int} to position {int}', function (this: EventfoldWorld, name: string, from: number, to: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.store!.recovery.quarantine!.checkpointsReset).to.deep.equal([{ name, from, to }]);
});

When('{int} new events are appended after the repair', async function (this: EventfoldWorld, count: number) {
  const first = this.store!.position + 1;
  for (let i = 0; i < count; i++) await this.store!.append('after-repair', numberedEvents(1, first + i));
});

Then('subscription {string} resuming from its checkpoint receives positions {int} to {int}, each exactly once', async function (this: EventfoldWorld, name: string, from: number, to: number) {
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (event) => void handled.push(event.position));
  await subscription.waitFor(to);
  await subscription.stop();
  expect(handled).to.deep.equal(Array.from({ length: to - from + 1 }, (_, i) => from + i));
});
