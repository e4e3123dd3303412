import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, type RecordedEvent, type StoreOptions } from '../../src/index';
import { decodeHeader } from '../../src/log/record';
import { filesHoldingOnDisk, LAST_TEXTS } from '../support/erasure';
import { numberedEvents, readAllEvents } from '../support/events';
import { recordSpans } from '../support/damage';
import { scenarioState } from '../support/scenario-state';
import { AFTER_FAILURE_POLICIES, changingCalls, faultAt, faultPointsOf, outcome, powerCutsDuringOpen } from '../support/disk-fault-sweep';
import type { EventfoldWorld } from '../support/world';

/**
 * A disk call of a scavenge that fails (features/lifecycle/scavenge-disk-faults.feature):
 * the fault is injected at each disk call that changes the disk, in turn, on
 * a copy of one store; the store must fail-stop and open again intact.
 */
const DIR = '/store';
const SEGMENT_BYTES = 4096;

/** What one failed disk call led to. */
interface FaultRun {
  point: string;
  /** How the scavenge ended: the error's name, or 'resolved'. */
  scavenge: string;
  /** How an append, a checkpoint and a second scavenge after it ended, and the disk calls they made. */
  after: { append: string; checkpoint: string; scavenge: string; diskCalls: number };
  /** Problems found by the reopens (empty when none). */
  problems: string[];
}

const faults = scenarioState(() => ({
  /** The closed store every run starts from (each run works on a clone). */
  base: undefined as SimulatedDisk | undefined,
  marker: '',
  /** Every event a reader sees before the scavenge: the scavenge must keep each of them exactly. */
  kept: [] as RecordedEvent[],
  options: {} as StoreOptions,
  runs: [] as FaultRun[],
  /** Opens after a failure cut by a second power loss. */
  recoveryCuts: 0,
}));

Given(
  'a store on a simulated disk with segments of 4 KiB and 6 streams of 20 events, {string} and {string} deleted, {string} deleted for good with its events holding the text {string}, {string} with maxCount 3, a projection keeping each stream\'s last text, a repair\'s copy of some of {string}\'s events in quarantine and a checkpoint taken last',
  async function (this: EventfoldWorld, soft1: string, soft2: string, hard: string, marker: string, capped: string, _copied: string) {
    const disk = new SimulatedDisk();
    const options: StoreOptions = { segmentSize: SEGMENT_BYTES, projections: LAST_TEXTS as never };
    let store = await EventStore.open(DIR, { ...options, fs: disk });
    const note = (stream: string, seq: number) => (stream === hard ? `${marker} #${seq}` : `${stream} #${seq}`);
    for (let round = 0; round < 4; round++) {
      for (let s = 0; s < 6; s++) {
        const stream = `s-${s}`;
        await store.append(stream, numberedEvents(5, round * 5).map((event, i) => ({ ...event, data: { ...(event.data as object), note: note(stream, round * 5 + i) } })));
      }
    }
    // A record of another stream damaged on disk, then more of the stream deleted for good: a repair cuts the log
    // at the damage and sets every record from there on aside in quarantine (where a scavenge must zero them).
    const damaged = await store.append('orders-damaged', [{ type: 'Placed' }]);
    for (let i = 0; i < 5; i++) await store.append(hard, [{ type: 'Registered', data: { note: `${marker} after the damage #${i}` } }]);
    await store.close();
    await flipBitInRecordOnDisk(disk, damaged.position);
    store = await EventStore.open(DIR, { ...options, fs: disk, repair: 'truncate' });
    expect(store.recovery.quarantine, 'the repair quarantined the damaged tail').to.not.equal(null);
    await store.deleteStream(soft1);
    await store.deleteStream(hard, { hard: true });
    await store.deleteStream(soft2);
    await store.setStreamMetadata(capped, { maxCount: 3 });
    await store.append(capped, numberedEvents(5, 20));
    await store.checkpoint();
    const kept = await readAllEvents(store);
    await store.close();
    expect((await filesHoldingOnDisk(disk, `${DIR}/quarantine`, marker)).length, 'the quarantine holds the text').to.be.greaterThan(0);
    Object.assign(faults(this), { base: disk, marker, kept, options });
  },
);

/** Flips one bit in the body of the record of `position`, in whichever segment holds it, behind the store's back. */
async function flipBitInRecordOnDisk(disk: SimulatedDisk, position: number): Promise<void> {
  const logDir = `${DIR}/log`;
  for (const name of (await disk.readdir(logDir)).filter((n) => n.endsWith('.seg'))) {
    const bytes = disk.peek(`${logDir}/${name}`);
    const span = recordSpans(bytes).find(({ offset }) => decodeHeader(bytes, offset).position === position);
    if (!span) continue;
    bytes[span.offset + span.length - 1] ^= 1;
    disk.overwrite(`${logDir}/${name}`, bytes);
    return;
  }
  throw new Error(`no record of position ${position}`);
}

/** The segment files of a disk, by name. */
async function segmentsOf(disk: SimulatedDisk): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await disk.readdir(`${DIR}/log`)).filter((n) => n.endsWith('.seg'))) files.set(name, disk.peek(`${DIR}/log/${name}`));
  return files;
}

When('each disk call of a scavenge in turn fails with {word}, the store being in {string} mode', async function (this: EventfoldWorld, error: 'EIO' | 'ENOSPC', durability: 'fsync' | 'flush') {
  const state = faults(this);
  const options: StoreOptions = { ...state.options, durability };
  const base = state.base!;
  // A scavenge that fails nowhere: the disk calls it makes, and each segment as it leaves it.
  const clean = base.clone();
  const cleanStore = await EventStore.open(DIR, { ...options, fs: clean });
  const points = await faultPointsOf(clean, () => cleanStore.scavenge());
  await cleanStore.close();
  const segments = { before: await segmentsOf(base), after: await segmentsOf(clean) };
  for (const op of ['create', 'write', 'datasync', 'rename', 'unlink', 'syncDir'] as const) {
    expect(points.some((p) => p.op === op), `the scavenge makes ${op} calls`).to.equal(true);
  }
  for (const point of points) {
    const disk = base.clone();
    const store = await EventStore.open(DIR, { ...options, fs: disk });
    disk.inject(faultAt(point, { error }));
    const run: FaultRun = { point: point.label, scavenge: await outcome(() => store.scavenge()), after: { append: '', checkpoint: '', scavenge: '', diskCalls: 0 }, problems: [] };
    const calls = changingCalls(disk);
    run.after.append = await outcome(() => store.append('s-4', numberedEvents(1, 100)));
    run.after.checkpoint = await outcome(() => store.checkpoint());
    run.after.scavenge = await outcome(() => store.scavenge());
    run.after.diskCalls = changingCalls(disk) - calls;
    await store.close().catch(() => undefined);
    run.problems.push(...(await reopenProblems(disk.clone(), options, state.kept, segments, 'reopened')));
    for (const policy of AFTER_FAILURE_POLICIES) {
      run.problems.push(...(await reopenProblems(disk.powerLoss(policy), options, state.kept, undefined, `power cut ${JSON.stringify(policy)}`)));
    }
    const recovery = await recoveryCutProblems(disk.powerLoss('drop-unsynced'), options, state.kept);
    state.recoveryCuts += recovery.cuts;
    run.problems.push(...recovery.problems);
    run.problems.push(...(await rerunProblems(disk.clone(), options, state.kept, state.marker)));
    state.runs.push(run);
  }
  await this.figures({ name: 'disk calls of the scavenge failed in turn', value: points.length, unit: 'calls' }, { name: 'opens after a failure cut by a power loss', value: state.recoveryCuts, unit: 'opens' });
});

/** Opens the store on `disk` and says what is wrong: an event not as before, or (given `segments`) a segment neither as before nor as rewritten. */
async function reopenProblems(disk: SimulatedDisk, options: StoreOptions, kept: RecordedEvent[], segments: { before: Map<string, Buffer>; after: Map<string, Buffer> } | undefined, how: string): Promise<string[]> {
  const problems: string[] = [];
  if (segments) {
    const now = await segmentsOf(disk);
    for (const [name, old] of segments.before) {
      const bytes = now.get(name);
      if (!bytes || !(bytes.equals(old) || bytes.equals(segments.after.get(name)!))) problems.push(`${how}: segment ${name} is neither as before nor as rewritten`);
    }
  }
  try {
    const store = await EventStore.open(DIR, { ...options, fs: disk });
    const events = await readAllEvents(store);
    await store.close();
    if (JSON.stringify(events) !== JSON.stringify(kept)) problems.push(`${how}: ${events.length} events read, ${kept.length} kept before, or not identical`);
  } catch (error) {
    problems.push(`${how}: the open failed: ${String(error)}`);
  }
  return problems;
}

/** The open after the failure (and a power cut) is itself cut by a power loss at each disk call that changes the disk, in turn; then the store must open with every kept event. */
function recoveryCutProblems(disk: SimulatedDisk, options: StoreOptions, kept: RecordedEvent[]): Promise<{ cuts: number; problems: string[] }> {
  return powerCutsDuringOpen(
    disk,
    (fs) => EventStore.open(DIR, { ...options, fs }),
    (after, how) => reopenProblems(after, options, kept, undefined, how),
  );
}

/** Opens the store on `disk`, scavenges it to its end, and says what is wrong: the marker in a file, or an event not as before. */
async function rerunProblems(disk: SimulatedDisk, options: StoreOptions, kept: RecordedEvent[], marker: string): Promise<string[]> {
  try {
    const store = await EventStore.open(DIR, { ...options, fs: disk });
    await store.scavenge();
    const events = await readAllEvents(store);
    await store.close();
    const problems: string[] = [];
    if (JSON.stringify(events) !== JSON.stringify(kept)) problems.push(`scavenged again: ${events.length} events read, ${kept.length} kept before, or not identical`);
    const files = await filesHoldingOnDisk(disk, DIR, marker);
    if (files.length > 0) problems.push(`scavenged again: ${files.join(', ')} still hold the text`);
    return problems;
  } catch (error) {
    return [`scavenged again: ${String(error)}`];
  }
}

Then('every such scavenge was refused with a StoreFailedError', function (this: EventfoldWorld) {
  const { runs } = faults(this);
  expect(runs.length).to.be.greaterThan(10);
  expect(runs.filter((run) => run.scavenge !== 'StoreFailedError').map((run) => `${run.point}: ${run.scavenge}`)).to.deep.equal([]);
});

Then('after every failure an append, a checkpoint and another scavenge were refused with a StoreFailedError without touching the disk', function (this: EventfoldWorld) {
  const refused = { append: 'StoreFailedError', checkpoint: 'StoreFailedError', scavenge: 'StoreFailedError', diskCalls: 0 };
  for (const run of faults(this).runs) expect(run.after, run.point).to.deep.equal(refused);
});

Then('after every failure the store opens again with every kept event exactly as before, and each segment as it was or as the scavenge rewrote it', function (this: EventfoldWorld) {
  for (const run of faults(this).runs) expect(run.problems.filter((p) => p.startsWith('reopened')), run.point).to.deep.equal([]);
});

Then('after every failure and then a power cut that drops, keeps or writes back part of every unsynced write, the store opens with every kept event exactly as before', function (this: EventfoldWorld) {
  for (const run of faults(this).runs) expect(run.problems.filter((p) => p.startsWith('power cut')), run.point).to.deep.equal([]);
});

Then('after every failure a scavenge run after the reopen leaves the text {string} in no file, and every kept event as before', function (this: EventfoldWorld, _marker: string) {
  for (const run of faults(this).runs) expect(run.problems.filter((p) => p.startsWith('scavenged again')), run.point).to.deep.equal([]);
});

Then('after every failure, a power cut and a second one at each disk call of the open that follows, the store opens with every kept event exactly as before', function (this: EventfoldWorld) {
  expect(faults(this).recoveryCuts, 'opens cut').to.be.greaterThan(faults(this).runs.length);
  for (const run of faults(this).runs) expect(run.problems.filter((p) => p.startsWith('recovery cut')), run.point).to.deep.equal([]);
});
