import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, StoreFailedError, type RecordedEvent, type StoreOptions } from '../../src/index';
import { decodeCheckpoint } from '../../src/snapshot/checkpoint-file';
import { AFTER_FAILURE_POLICIES, changingCalls, faultAt, faultPointsOf, outcome, powerCutsDuringOpen, type FaultPoint } from '../support/disk-fault-sweep';
import { numberedEvents, readAllEvents } from '../support/events';
import { holdFirstFsync } from '../support/held-fsync';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * The writes beside the log whose disk calls fail (features/snapshots/snapshot-disk-faults.feature,
 * features/subscriptions/checkpoint-disk-faults.feature, features/recovery/clean-close-disk-faults.feature):
 * a fault at each disk call of one snapshot, checkpoint or close in turn, each
 * on a copy of one closed store; then reopens, power cuts, and power cuts
 * during the open that follows.
 */
const DIR = '/store';
/** Appends made by the runs: their events' `seq` starts here, above every event of the closed store. */
const FIRST_NEW_SEQ = 10_000;

type Balances = Record<string, number>;

/** Each account's balance: the sum of its events' amounts. */
const BALANCES = {
  balances: {
    initialState: {} as Balances,
    version: 1,
    evolve: (draft: Balances, event: RecordedEvent) => {
      draft[event.stream] = (draft[event.stream] ?? 0) + (event.data as { amount: number }).amount;
    },
  },
};

/** What one failed disk call led to. */
interface FaultRun {
  point: string;
  /** How the faulted work (a snapshot, a stop, a close) ended: its error's name, or 'resolved'. */
  work: string;
  /** How an append after the failure ended, and the disk calls it made. */
  after: { append: string; diskCalls: number };
  /** Problems found by the checks after the failure (each starts with where it was found). */
  problems: string[];
}

const sweep = scenarioState(() => ({
  /** The closed store every run starts from (each run works on a clone). */
  base: undefined as SimulatedDisk | undefined,
  /** Every event of the closed store. */
  events: [] as RecordedEvent[],
  /** The position its subscription's checkpoint holds. */
  checkpointAt: -1,
  runs: [] as FaultRun[],
  /** Opens after a failure cut by a second power loss. */
  recoveryCuts: 0,
  /** The run with a snapshot taken every so many events. */
  automatic: undefined as { store: EventStore; disk: SimulatedDisk; appends: Array<{ seq: number; outcome: unknown }>; expected: Expected } | undefined,
}));

/** What an open after a failure must find. */
interface Expected {
  /** Events that must be there exactly (durable before the failure). */
  kept: RecordedEvent[];
  /** Acknowledged events after `kept`, in order: all of them must be there, or (`mayLoseTail`: a power cut in 'flush' mode) a prefix. */
  acknowledged: RecordedEvent[];
  mayLoseTail: boolean;
  /** `seq` of the events whose appends were refused: none may be there. */
  refused: Set<number>;
}

function open(disk: SimulatedDisk, options: StoreOptions): Promise<EventStore> {
  return EventStore.open(DIR, { projections: BALANCES as never, snapshotEvery: 0, ...options, fs: disk });
}

/** The balances a full replay of `events` gives, keys sorted. */
function balancesOf(events: readonly RecordedEvent[]): Balances {
  const balances: Balances = {};
  for (const event of events) BALANCES.balances.evolve(balances, event);
  return sorted(balances);
}

function sorted(balances: Balances): Balances {
  return Object.fromEntries(Object.entries(balances).sort(([a], [b]) => a.localeCompare(b)));
}

const seqOf = (event: RecordedEvent): number => (event.data as { seq: number }).seq;

/** What is wrong with `events` as `expected` says they must be (empty when nothing). */
function eventProblems(events: readonly RecordedEvent[], expected: Expected, how: string): string[] {
  const problems: string[] = [];
  const { kept, acknowledged } = expected;
  if (JSON.stringify(events.slice(0, kept.length)) !== JSON.stringify(kept)) problems.push(`${how}: the first ${kept.length} events are not exactly as before`);
  const rest = events.slice(kept.length);
  if (JSON.stringify(rest) !== JSON.stringify(acknowledged.slice(0, rest.length))) problems.push(`${how}: the events after the first ${kept.length} are not the acknowledged ones, in order`);
  if (!expected.mayLoseTail && rest.length !== acknowledged.length) problems.push(`${how}: ${rest.length} of ${acknowledged.length} acknowledged events read`);
  const served = events.filter((event) => expected.refused.has(seqOf(event))).map(seqOf);
  if (served.length > 0) problems.push(`${how}: refused events served: ${served.join(', ')}`);
  return problems;
}

/** Opens the store on `disk` and says what is wrong: its events, its balances (against a full replay), and what `more` finds. */
async function reopenProblems(disk: SimulatedDisk, options: StoreOptions, expected: Expected, how: string, more?: (disk: SimulatedDisk) => string[]): Promise<string[]> {
  try {
    const store = await open(disk, options);
    try {
      const events = await readAllEvents(store);
      const problems = eventProblems(events, expected, how);
      const balances = sorted(store.state('balances' as never) as Balances);
      if (JSON.stringify(balances) !== JSON.stringify(balancesOf(events))) {
        problems.push(`${how}: the balances (from the snapshot at ${store.recovery.snapshot.position}) are not what a full replay gives`);
      }
      problems.push(...(more?.(disk).map((problem) => `${how}: ${problem}`) ?? []));
      return problems;
    } finally {
      await store.close();
    }
  } catch (error) {
    return [`${how}: the open failed: ${String(error)}`];
  }
}

/**
 * After a failure on `disk`: a reopen as it is, one after each kind of power
 * cut, and the opens after a power cut cut by a second one at each of their
 * disk calls — each must find what `expected` says (in 'flush' mode a power
 * cut may take acknowledged events that were never fsynced, from the end).
 */
async function afterFailureProblems(
  world: EventfoldWorld,
  disk: SimulatedDisk,
  options: StoreOptions,
  expected: Expected,
  more?: (disk: SimulatedDisk) => string[],
): Promise<string[]> {
  const cut: Expected = { ...expected, mayLoseTail: options.durability === 'flush' };
  const problems = await reopenProblems(disk.clone(), options, expected, 'reopened', more);
  for (const policy of AFTER_FAILURE_POLICIES) {
    problems.push(...(await reopenProblems(disk.powerLoss(policy), options, cut, `power cut ${JSON.stringify(policy)}`, more)));
  }
  const recovery = await powerCutsDuringOpen(
    disk.powerLoss('drop-unsynced'),
    (fs) => open(fs, options),
    (after, how) => reopenProblems(after, options, cut, how, more),
  );
  sweep(world).recoveryCuts += recovery.cuts;
  problems.push(...recovery.problems);
  return problems;
}

/** Appends `count` events to "account-late" (their `seq` from `seq` on), remembering which were acknowledged and which refused. */
function appendTracked(store: EventStore, seq: number, count: number, acknowledged: Set<number>, refused: Set<number>): Promise<void> {
  const events = numberedEvents(count, seq);
  return store.append('account-late', events).then(
    () => events.forEach((_, i) => acknowledged.add(seq + i)),
    (error: unknown) => {
      events.forEach((_, i) => refused.add(seq + i));
      if (!(error instanceof StoreFailedError)) throw error;
    },
  );
}

/** Runs `faulted` once per fault point, each on a fresh copy of the closed store. */
async function eachPoint(world: EventfoldWorld, points: FaultPoint[], faulted: (point: FaultPoint, disk: SimulatedDisk) => Promise<FaultRun>): Promise<void> {
  const state = sweep(world);
  for (const point of points) state.runs.push(await faulted(point, state.base!.clone()));
}

/** An append after the failure, and the disk calls it made. */
async function appendAfter(store: EventStore, disk: SimulatedDisk, refused: Set<number>): Promise<FaultRun['after']> {
  const calls = changingCalls(disk);
  const seq = FIRST_NEW_SEQ * 2;
  refused.add(seq);
  const append = await outcome(() => store.append('account-late', numberedEvents(1, seq)));
  return { append, diskCalls: changingCalls(disk) - calls };
}

Given(
  'a closed store on a simulated disk with {int} events of {int} accounts, a projection of each account\'s balance, snapshots at positions {int} and {int}, and subscription {string} having handled up to position {int}',
  async function (this: EventfoldWorld, count: number, accounts: number, first: number, second: number, name: string, handled: number) {
    const disk = new SimulatedDisk();
    const store = await open(disk, {});
    for (let seq = 0; seq < count; seq += 10) {
      await store.append(`account-${(seq / 10) % accounts}`, numberedEvents(10, seq));
      const last = seq + 9;
      if (last === first || last === second) await store.checkpoint();
      if (last === handled) {
        const subscription = await store.subscribe(name, () => undefined, { checkpointEvery: 1000 });
        await subscription.waitFor(handled);
        await subscription.stop();
      }
    }
    const events = await readAllEvents(store);
    await store.close();
    expect(await disk.readdir(`${DIR}/snapshots`)).to.deep.equal([first, second].map((p) => `${String(p).padStart(20, '0')}.snap`));
    expect(decodeCheckpoint(disk.peek(`${DIR}/subscriptions/${name}.json`))).to.deep.equal({ position: handled });
    Object.assign(sweep(this), { base: disk, events, checkpointAt: handled });
  },
);

When('a snapshot is asked for between two appends and each disk call of its write in turn fails with {word}, the store being in {string} mode', async function (this: EventfoldWorld, error: 'EIO' | 'ENOSPC', durability: 'fsync' | 'flush') {
  const state = sweep(this);
  const options: StoreOptions = { durability };
  // A snapshot that fails nowhere: the disk calls of its write.
  const clean = state.base!.clone();
  const cleanStore = await open(clean, options);
  const points = await faultPointsOf(clean, () => cleanStore.checkpoint());
  await cleanStore.close();
  for (const op of ['create', 'write', 'datasync', 'rename', 'unlink', 'syncDir'] as const) {
    expect(points.some((p) => p.op === op), `the snapshot write makes ${op} calls`).to.equal(true);
  }
  await eachPoint(this, points, async (point, disk) => {
    const store = await open(disk, options);
    disk.inject(faultAt(point, { error }));
    const acknowledged = new Set<number>();
    const refused = new Set<number>();
    const before = appendTracked(store, FIRST_NEW_SEQ, 5, acknowledged, refused);
    const snapshot = outcome(() => store.checkpoint());
    const after = appendTracked(store, FIRST_NEW_SEQ + 5, 5, acknowledged, refused);
    const run: FaultRun = { point: point.label, work: await snapshot, after: { append: '', diskCalls: 0 }, problems: [] };
    await Promise.all([before, after]);
    run.after = await appendAfter(store, disk, refused);
    const served = await readAllEvents(store);
    const expected: Expected = {
      kept: state.events,
      acknowledged: served.slice(state.events.length),
      mayLoseTail: false,
      refused,
    };
    const servedSeqs = expected.acknowledged.map(seqOf);
    if (JSON.stringify([...servedSeqs].sort()) !== JSON.stringify([...acknowledged].sort())) {
      run.problems.push(`served: the stopped store read ${servedSeqs.join(', ')} after the first ${state.events.length}, acknowledged were ${[...acknowledged].join(', ')}`);
    }
    run.problems.push(...eventProblems(served, expected, 'served'));
    await store.close().catch(() => undefined);
    run.problems.push(...(await afterFailureProblems(this, disk, options, expected)));
    return run;
  });
  await this.figures({ name: 'disk calls of the snapshot write failed in turn', value: points.length, unit: 'calls' }, { name: 'opens after a failure cut by a power loss', value: state.recoveryCuts, unit: 'opens' });
});

Then('every such snapshot was refused with a StoreFailedError', function (this: EventfoldWorld) {
  expectEveryWork(this, 'StoreFailedError');
});

Then('every such stop was refused with a StoreFailedError', function (this: EventfoldWorld) {
  expectEveryWork(this, 'StoreFailedError');
});

Then('every such close was refused with a StorageError', function (this: EventfoldWorld) {
  expectEveryWork(this, 'StorageError');
});

function expectEveryWork(world: EventfoldWorld, name: string): void {
  const { runs } = sweep(world);
  expect(runs.length).to.be.greaterThan(3);
  expect(runs.filter((run) => run.work !== name).map((run) => `${run.point}: ${run.work}`)).to.deep.equal([]);
}

Then('after every failure an append was refused with a StoreFailedError without touching the disk', function (this: EventfoldWorld) {
  for (const run of sweep(this).runs) expect(run.after, run.point).to.deep.equal({ append: 'StoreFailedError', diskCalls: 0 });
});

Then('after every failure the stopped store still read every acknowledged event, and no refused one', function (this: EventfoldWorld) {
  expectNoProblems(this, 'served');
});

Then('after every failure the store opens again with every acknowledged event exactly, no refused one, and each balance as a full replay gives it', function (this: EventfoldWorld) {
  expectNoProblems(this, 'reopened');
});

Then('after every failure and then a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every event it must keep, no refused one, and each balance as a full replay gives it', function (this: EventfoldWorld) {
  expectNoProblems(this, 'power cut');
});

Then('after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with every event it must keep, no refused one, and each balance as a full replay gives it', function (this: EventfoldWorld) {
  expectRecoveryCuts(this);
});

function expectNoProblems(world: EventfoldWorld, ...where: string[]): void {
  for (const run of sweep(world).runs) expect(run.problems.filter((p) => where.some((w) => p.startsWith(w))), run.point).to.deep.equal([]);
}

function expectRecoveryCuts(world: EventfoldWorld): void {
  expect(sweep(world).recoveryCuts, 'opens cut').to.be.greaterThan(sweep(world).runs.length);
  expectNoProblems(world, 'recovery cut');
}

When('the store takes a snapshot every {int} events, the fsync of its next snapshot file will fail with {word}, and {int} events are appended one after another', async function (this: EventfoldWorld, every: number, error: 'EIO' | 'ENOSPC', count: number) {
  const state = sweep(this);
  const disk = state.base!.clone();
  const store = await open(disk, { snapshotEvery: every });
  disk.inject({ op: 'datasync', path: '/snapshots/', error });
  const appends: Array<{ seq: number; outcome: unknown }> = [];
  for (let seq = FIRST_NEW_SEQ; seq < FIRST_NEW_SEQ + count; seq++) {
    appends.push({ seq, outcome: await store.append('account-late', numberedEvents(1, seq)).catch((failure: unknown) => failure) });
  }
  const refused = new Set(appends.filter((a) => a.outcome instanceof Error).map((a) => a.seq));
  const served = await readAllEvents(store);
  const expected: Expected = { kept: state.events, acknowledged: served.slice(state.events.length), mayLoseTail: false, refused };
  expect(eventProblems(served, expected, 'served')).to.deep.equal([]);
  expect(expected.acknowledged.map(seqOf)).to.deep.equal(appends.filter((a) => !(a.outcome instanceof Error)).map((a) => a.seq));
  state.automatic = { store, disk, appends, expected };
});

Then('a snapshot asked for afterwards is refused with a StoreFailedError, the same one the failed snapshot reports', async function (this: EventfoldWorld) {
  const { store } = sweep(this).automatic!;
  const refusal = await store.checkpoint().catch((failure: unknown) => failure);
  expect(refusal).to.be.instanceOf(StoreFailedError);
  expect(store.snapshotError).to.equal(refusal);
  expect(store.failed).to.equal(true);
});

Then('every append from the first refused one on was refused with it, and so is an append now', async function (this: EventfoldWorld) {
  const { store, appends, expected } = sweep(this).automatic!;
  const first = appends.findIndex((a) => a.outcome instanceof Error);
  if (first >= 0) for (const a of appends.slice(first)) expect(a.outcome, `append of seq ${a.seq}`).to.equal(store.snapshotError);
  const now = FIRST_NEW_SEQ * 2;
  expected.refused.add(now);
  expect(await store.append('account-late', numberedEvents(1, now)).catch((failure: unknown) => failure)).to.equal(store.snapshotError);
});

Then('the store opens again with every acknowledged event exactly, no refused one, and each balance as a full replay gives it', async function (this: EventfoldWorld) {
  const { store, disk, expected } = sweep(this).automatic!;
  await store.close().catch(() => undefined);
  expect(await reopenProblems(disk.clone(), {}, expected, 'reopened')).to.deep.equal([]);
  for (const policy of AFTER_FAILURE_POLICIES) expect(await reopenProblems(disk.powerLoss(policy), {}, expected, `power cut ${JSON.stringify(policy)}`)).to.deep.equal([]);
});

When('subscription {string} catches up to position {int} and each disk call of the checkpoint it stores as it stops in turn fails with {word}', async function (this: EventfoldWorld, name: string, position: number, error: 'EIO' | 'ENOSPC') {
  const state = sweep(this);
  const caughtUp = async (disk: SimulatedDisk) => {
    const store = await open(disk, {});
    const subscription = await store.subscribe(name, () => undefined, { checkpointEvery: 1000 });
    await subscription.waitFor(position);
    return { store, subscription };
  };
  const clean = state.base!.clone();
  const cleanRun = await caughtUp(clean);
  const points = await faultPointsOf(clean, () => cleanRun.subscription.stop());
  await cleanRun.store.close();
  for (const op of ['create', 'write', 'datasync', 'rename', 'syncDir'] as const) {
    expect(points.some((p) => p.op === op), `the checkpoint write makes ${op} calls`).to.equal(true);
  }
  // The checkpoint as it was, or as it was being written: never damaged, never past what the handler finished.
  const checkpointProblems = (disk: SimulatedDisk): string[] => {
    const stored = decodeCheckpoint(disk.peek(`${DIR}/subscriptions/${name}.json`));
    return 'position' in stored && (stored.position === state.checkpointAt || stored.position === position) ? [] : [`the checkpoint of "${name}" reads ${JSON.stringify(stored)}`];
  };
  await eachPoint(this, points, async (point, disk) => {
    const { store, subscription } = await caughtUp(disk);
    disk.inject(faultAt(point, { error }));
    const run: FaultRun = { point: point.label, work: await outcome(() => subscription.stop()), after: { append: '', diskCalls: 0 }, problems: [] };
    const refused = new Set<number>();
    run.after = await appendAfter(store, disk, refused);
    await store.close().catch(() => undefined);
    const expected: Expected = { kept: state.events, acknowledged: [], mayLoseTail: false, refused };
    run.problems.push(...(await afterFailureProblems(this, disk, {}, expected, checkpointProblems)));
    return run;
  });
  await this.figures({ name: 'disk calls of the checkpoint write failed in turn', value: points.length, unit: 'calls' }, { name: 'opens after a failure cut by a power loss', value: state.recoveryCuts, unit: 'opens' });
});

Then('after every failure, and after a power cut that drops, keeps or writes back part of every unsynced write, the store opens with all {int} events and the checkpoint of {string} at position {int} or {int}', function (this: EventfoldWorld, count: number, _name: string, _before: number, _after: number) {
  expect(sweep(this).events).to.have.length(count);
  expectNoProblems(this, 'reopened', 'power cut');
});

Then('after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with all {int} events and the checkpoint of {string} at position {int} or {int}', function (this: EventfoldWorld, _count: number, _name: string, _before: number, _after: number) {
  expectRecoveryCuts(this);
});

When('{int} events are appended and each disk call of the close that follows, but for clearing the owner\'s note in LOCK, in turn fails with {word}, the store being in {string} mode', async function (this: EventfoldWorld, count: number, error: 'EIO' | 'ENOSPC', durability: 'fsync' | 'flush') {
  const state = sweep(this);
  const options: StoreOptions = { durability };
  const appended = async (disk: SimulatedDisk) => {
    const store = await open(disk, options);
    await store.append('account-late', numberedEvents(count, FIRST_NEW_SEQ));
    return store;
  };
  const clean = state.base!.clone();
  const cleanStore = await appended(clean);
  // The owner's note in LOCK is cleared as the lock is let go, for people only: a failure there is no failure of the close.
  const points = (await faultPointsOf(clean, () => cleanStore.close())).filter((p) => !p.path.endsWith('/LOCK'));
  for (const op of ['create', 'write', 'datasync', 'rename', 'syncDir'] as const) {
    expect(points.some((p) => p.op === op), `the close makes ${op} calls`).to.equal(true);
  }
  await eachPoint(this, points, async (point, disk) => {
    const store = await appended(disk);
    const served = await readAllEvents(store);
    disk.inject(faultAt(point, { error }));
    const run: FaultRun = { point: point.label, work: await outcome(() => store.close()), after: { append: 'not tried: the store is closed', diskCalls: 0 }, problems: [] };
    const expected: Expected = { kept: state.events, acknowledged: served.slice(state.events.length), mayLoseTail: false, refused: new Set() };
    run.problems.push(...(await reopenProblems(disk.clone(), options, expected, 'reopened')));
    for (const policy of AFTER_FAILURE_POLICIES) {
      run.problems.push(...(await reopenProblems(disk.powerLoss(policy), options, { ...expected, mayLoseTail: durability === 'flush' }, `power cut ${JSON.stringify(policy)}`)));
    }
    return run;
  });
  await this.figures({ name: 'disk calls of the close failed in turn', value: points.length, unit: 'calls' });
});

Then('after every failure, and after a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every event it must keep and each balance as a full replay gives it', function (this: EventfoldWorld) {
  expectNoProblems(this, 'reopened', 'power cut');
});

const stoppedMidway = scenarioState(() => ({
  disk: undefined as SimulatedDisk | undefined,
  snapshot: undefined as unknown,
  append: undefined as unknown,
  /** Calls that changed the disk after the append was refused. */
  callsAfterStop: -1,
  expected: undefined as Expected | undefined,
}));

When('a snapshot waits for the fsync of its file, and meanwhile the fsync of an append fails with {word}', async function (this: EventfoldWorld, error: 'EIO' | 'ENOSPC') {
  const state = sweep(this);
  const disk = state.base!.clone();
  const held = holdFirstFsync(disk, '/snapshots/');
  const store = await open(disk, {});
  const snapshot = store.checkpoint().catch((failure: unknown) => failure);
  await held.reached;
  disk.inject({ op: 'datasync', path: '/log/', error });
  const seq = FIRST_NEW_SEQ;
  const append = await store.append('account-late', numberedEvents(1, seq)).catch((failure: unknown) => failure);
  const calls = changingCalls(disk);
  held.release();
  const midway = stoppedMidway(this);
  midway.snapshot = await snapshot;
  midway.append = append;
  midway.callsAfterStop = changingCalls(disk) - calls;
  await store.close().catch(() => undefined);
  Object.assign(midway, { disk, expected: { kept: state.events, acknowledged: [], mayLoseTail: false, refused: new Set([seq]) } });
});

Then('the snapshot was refused with the StoreFailedError the append got', function (this: EventfoldWorld) {
  const { snapshot, append } = stoppedMidway(this);
  expect(append).to.be.instanceOf(StoreFailedError);
  expect(snapshot).to.equal(append);
});

Then('no disk call changed the disk after the store stopped, and no newer snapshot than the one at position {int} is in place', async function (this: EventfoldWorld, newest: number) {
  const { disk, callsAfterStop } = stoppedMidway(this);
  expect(callsAfterStop, 'disk calls that changed the disk after the store stopped').to.equal(0);
  const snapshots = (await disk!.readdir(`${DIR}/snapshots`)).filter((name) => name.endsWith('.snap'));
  expect(snapshots.map((name) => Number(name.slice(0, -'.snap'.length)))).to.satisfy((positions: number[]) => positions.every((p) => p <= newest));
});

Then('the store opens again with every event of before the snapshot exactly, not the refused one, and each balance as a full replay gives it', async function (this: EventfoldWorld) {
  const { disk, expected } = stoppedMidway(this);
  expect(await afterFailureProblems(this, disk!, {}, expected!)).to.deep.equal([]);
});
