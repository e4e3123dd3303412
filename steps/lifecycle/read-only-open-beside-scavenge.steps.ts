import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CorruptionError, EventStore, inspectStore, SimulatedDisk, type FileHandle, type FileSystem } from '../../src/index';
import { decodeSnapshot } from '../../src/snapshot/snapshot-file';
import { listSnapshots } from '../../src/snapshot/snapshots';
import { collect } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * A read-only open (what `eventfold read` and `backup` do) and an inspection
 * (`info`, `verify`) beside a writer that scavenges just before one of their
 * disk calls, every call in turn (features/lifecycle/read-only-open-beside-a-scavenge.feature).
 */
const DIR = '/store';
const KEPT = 'keep';

interface Run {
  /** The disk call of the reader the scavenge came just before (1: the first). */
  before: number;
  outcome: string;
  read: number;
  health: string;
  removed: number;
  /** What the open's recovery report says of the snapshot it started from, or why it read the whole log. */
  start: string;
}

const besideScavenge = scenarioState(() => ({
  /** The closed store every run starts from (each run works on a clone). */
  base: undefined as SimulatedDisk | undefined,
  events: 0,
  runs: [] as Run[],
  /** The failure of the last read-only open or inspection of the damaged store. */
  refused: undefined as unknown,
  /** Problems the last inspection reported. */
  problems: [] as string[],
  /** The segment a scenario damaged. */
  damagedSegment: '',
}));

Given(
  'a store on a simulated disk with segments of 4 KiB and a snapshot, where {string} has {int} events between those of a stream deleted for good after the snapshot',
  async function (this: EventfoldWorld, stream: string, count: number) {
    expect(stream).to.equal(KEPT);
    const disk = new SimulatedDisk();
    const store = await EventStore.open(DIR, { fs: disk, segmentSize: 4096 });
    for (let i = 0; i < count; i++) {
      await store.append('gone', [{ type: 'Gone', data: { i, pad: 'x'.repeat(100) } }]);
      await store.append(stream, [{ type: 'Kept', data: { i } }]);
    }
    await store.checkpoint();
    // After the snapshot, in the segment where it ends: the scavenge rewrites that segment shorter.
    await store.deleteStream('gone', { hard: true });
    await store.close();
    Object.assign(besideScavenge(this), { base: disk, events: count });
  },
);

/**
 * The reader's own view of the disk the writer uses: every call it makes
 * (directory, file and handle calls alike) is counted, and the one numbered
 * `before` first waits for a whole scavenge of the writer.
 */
function readerView(disk: SimulatedDisk, before: number, scavenge: () => Promise<void>): { fs: FileSystem; calls: () => number } {
  let calls = 0;
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    if (++calls === before) await scavenge();
    return run();
  };
  const handleView = (handle: FileHandle): FileHandle => ({
    read: (buffer, offset, length, position) => call(() => handle.read(buffer, offset, length, position)),
    size: () => call(() => handle.size()),
    close: () => call(() => handle.close()),
    write: (buffer, position) => handle.write(buffer, position),
    datasync: () => handle.datasync(),
    truncate: (length) => handle.truncate(length),
  });
  const fs: FileSystem = {
    mkdirp: (dir) => call(() => disk.mkdirp(dir)),
    readdir: (dir) => call(() => disk.readdir(dir)),
    exists: (path) => call(() => disk.exists(path)),
    open: async (path, mode) => handleView(await call(() => disk.open(path, mode))),
    create: async (path) => handleView(await call(() => disk.create(path))),
    readFile: (path) => call(() => disk.readFile(path)),
    rename: (from, to) => call(() => disk.rename(from, to)),
    unlink: (path) => call(() => disk.unlink(path)),
    syncDir: (dir) => call(() => disk.syncDir(dir)),
    tryLock: (path) => call(() => disk.tryLock(path)),
    isLocked: (path) => call(() => disk.isLocked(path)),
  };
  return { fs, calls: () => calls };
}

/**
 * Runs `look` (a reader's whole visit) on a clone of the store once without
 * a scavenge, to count its disk calls, then once per call with the writer's
 * scavenge just before that call.
 */
async function sweep(world: EventfoldWorld, look: (fs: FileSystem) => Promise<Omit<Run, 'before' | 'removed'>>): Promise<void> {
  const state = besideScavenge(world);
  // Visit 0 counts the calls (no scavenge); visit n has the scavenge before call n.
  let total = 0;
  for (let before = 0; before <= total; before++) {
    const disk = state.base!.clone();
    const writer = await EventStore.open(DIR, { fs: disk, segmentSize: 4096 });
    let removed = -1;
    const view = readerView(disk, before, async () => {
      removed = (await writer.scavenge()).eventsRemoved;
    });
    let run: Omit<Run, 'before' | 'removed'>;
    try {
      run = await look(view.fs);
    } catch (error) {
      run = { outcome: String(error), read: 0, health: '', start: '' };
    }
    await writer.close();
    if (before === 0) {
      total = view.calls();
      expect(total, 'disk calls of one visit').to.be.greaterThan(10);
    } else state.runs.push({ before, removed, ...run });
  }
  await world.figures({ name: 'reader visits raced by a scavenge', value: state.runs.length, unit: 'visits' });
}

When('the application scavenges during a read-only open, just before the open\'s first, second, … last disk call, also of its reads and of its check of the log the snapshot covers', async function (this: EventfoldWorld) {
  await sweep(this, async (fs) => {
    const reader = await EventStore.open(DIR, { fs, readOnly: true });
    try {
      const { snapshot } = reader.recovery;
      const start = snapshot.used ? `started from ${snapshot.used}` : `read the whole log: ${snapshot.fullReplayReason ?? 'no snapshot'}; skipped ${snapshot.skipped.map((s) => s.reason).join('; ')}`;
      const read = (await collect(reader.readStream(KEPT))).length;
      const health = await reader.verified();
      return { outcome: 'opened', read, health: `${health.log}${health.problem ? `: ${health.problem.message}` : ''}`, start };
    } finally {
      await reader.close();
    }
  });
});

Then('every read-only open succeeded, read all {int} events of {string} and found the log healthy', function (this: EventfoldWorld, count: number, _stream: string) {
  for (const run of besideScavenge(this).runs) {
    expect(run.outcome, `scavenge before disk call ${run.before}`).to.equal('opened');
    expect(run.read, `scavenge before disk call ${run.before}: events read`).to.equal(count);
    expect(run.health, `scavenge before disk call ${run.before}: the check of the log the snapshot covers`).to.equal('verified');
  }
});

Then('in every run the scavenge removed the {int} events of the deleted stream', function (this: EventfoldWorld, count: number) {
  for (const run of besideScavenge(this).runs) expect(run.removed, `scavenge before disk call ${run.before}`).to.equal(count);
});

Then('some opens started from the snapshot, and some passed it over as removed while they read it', function (this: EventfoldWorld) {
  const starts = besideScavenge(this).runs.map((run) => run.start);
  expect(starts.some((start) => start.startsWith('started from snapshots/')), starts.join('\n')).to.equal(true);
  expect(starts.some((start) => start.includes('removed while this open read it')), starts.join('\n')).to.equal(true);
});

When('the application scavenges during eventfold info, just before its first, second, … last disk call', async function (this: EventfoldWorld) {
  await sweep(this, async (fs) => {
    const inspection = await inspectStore(DIR, fs);
    return { outcome: inspection.healthy ? 'healthy' : `not healthy: ${inspection.problems.join('; ')}`, read: inspection.streams, health: '', start: '' };
  });
});

Then('every inspection said the store is healthy, with {int} stream', function (this: EventfoldWorld, streams: number) {
  for (const run of besideScavenge(this).runs) {
    expect(run.outcome, `scavenge before disk call ${run.before}`).to.equal('healthy');
    expect(run.read, `scavenge before disk call ${run.before}: streams`).to.equal(streams);
  }
});

// ---- damage under the snapshot, the snapshot removed meanwhile ----

When('one bit flips in an event of {string} in the first segment, under the snapshot', async function (this: EventfoldWorld, stream: string) {
  const disk = besideScavenge(this).base!;
  const [first] = (await disk.readdir(`${DIR}/log`)).filter((name) => name.endsWith('.seg')).sort();
  const path = `${DIR}/log/${first}`;
  const bytes = disk.peek(path);
  // The event's data, well inside its record: the stream's name is followed by its type and the data.
  const at = bytes.indexOf(Buffer.from(`${stream}Kept`)) + stream.length + 'Kept'.length + 2;
  expect(at, 'an event of the stream in the first segment').to.be.greaterThan(32);
  bytes[at] ^= 0x01;
  disk.overwrite(path, bytes);
  besideScavenge(this).damagedSegment = first;
});

When('the snapshot is removed just before each disk call of a read-only open in turn', async function (this: EventfoldWorld) {
  const state = besideScavenge(this);
  let total = 0;
  for (let before = 0; before <= total; before++) {
    const disk = state.base!.clone();
    const [name] = await listSnapshots(disk, DIR);
    // What a writer's scavenge or newer snapshot does to it.
    const view = readerView(disk, before, () => disk.unlink(`${DIR}/snapshots/${name}`));
    let outcome: string;
    try {
      const reader = await EventStore.open(DIR, { fs: view.fs, readOnly: true });
      try {
        const health = await reader.verified();
        outcome = `opened, log ${health.log}${health.problem ? `: ${health.problem.message}` : ''}`;
      } finally {
        await reader.close();
      }
    } catch (error) {
      outcome = `${(error as Error).name}: ${(error as Error).message}`;
    }
    if (before === 0) total = view.calls();
    state.runs.push({ before, removed: 0, outcome, read: 0, health: '', start: '' });
  }
});

Then('every read-only open named the damaged segment, by failing with a CorruptionError or by finding its log damaged', function (this: EventfoldWorld) {
  const { runs, damagedSegment } = besideScavenge(this);
  expect(runs.length, 'opens').to.be.greaterThan(10);
  for (const run of runs) {
    const named = run.outcome.includes(damagedSegment) && (run.outcome.startsWith('CorruptionError') || run.outcome.startsWith('opened, log damaged'));
    expect(named, `snapshot removed before disk call ${run.before}: ${run.outcome}`).to.equal(true);
  }
});

// ---- real loss under a snapshot still in place ----

When('the segment where the snapshot ends is cut short by the snapshot\'s last record', async function (this: EventfoldWorld) {
  const disk = besideScavenge(this).base!;
  const [name] = await listSnapshots(disk, DIR);
  const contents = decodeSnapshot(await disk.readFile(`${DIR}/snapshots/${name}`), name);
  const record = contents.lastRecord!;
  expect(record.segmentBase, 'the snapshot ends in the segment of its last record').to.equal(contents.logEnd.segmentBase);
  const segment = `${DIR}/log/${String(record.segmentBase).padStart(20, '0')}.seg`;
  const handle = await disk.open(segment);
  await handle.truncate(record.offset);
  await handle.datasync();
  await handle.close();
});

When('the store is opened read-only and inspected', async function (this: EventfoldWorld) {
  const state = besideScavenge(this);
  const disk = state.base!;
  try {
    const reader = await EventStore.open(DIR, { fs: disk, readOnly: true });
    await reader.close();
    state.refused = undefined;
  } catch (error) {
    state.refused = error;
  }
  state.problems = (await inspectStore(DIR, disk)).problems;
});

Then('the read-only open failed with a CorruptionError saying {string}', function (this: EventfoldWorld, text: string) {
  const { refused } = besideScavenge(this);
  expect(refused, String(refused)).to.be.instanceOf(CorruptionError);
  expect((refused as Error).message).to.contain(text);
});

Then('eventfold info says the store is not healthy: {string}', function (this: EventfoldWorld, text: string) {
  const { problems } = besideScavenge(this);
  expect(problems.some((problem) => problem.includes(text)), problems.join('\n')).to.equal(true);
});
