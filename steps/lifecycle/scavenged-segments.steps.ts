import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, SimulatedDisk, type DiskOperation, type PowerLossPolicy, type RecordedEvent } from '../../src/index';
import { decodeHeader, FIXED_RECORD_BYTES } from '../../src/log/record';
import { decodeSegmentHeader, scavengeMark, SEGMENT_HEADER_BYTES } from '../../src/log/segment-file';
import { collect, readAllEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import { runEventfold } from '../support/eventfold-cli';
import { recordSpans } from '../support/damage';
import { scavenges } from '../support/scavenge-state';
import type { EventfoldWorld } from '../support/world';

/**
 * Scavenged segments under damage, repair and readers from other processes
 * (features/lifecycle/scavenge.feature, features/recovery/scavenged-segment-repair.feature).
 */

/** The first segment a scavenge rewrote that holds kept events of `stream`, and the offsets of its records. */
function scavengedSegmentHolding(logDir: string, stream: string): { path: string; name: string; records: number[]; size: number } {
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()) {
    const path = join(logDir, name);
    const bytes = readFileSync(path);
    decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES), name);
    if (!scavengeMark(bytes)) continue;
    // (recordSpans throws on a segment damaged before the scenario damages it.)
    const records = recordSpans(bytes).map((span) => span.offset);
    if (records.some((offset) => decodeHeader(bytes, offset).stream === stream)) return { path, name, records, size: bytes.length };
  }
  throw new Error(`no scavenged segment holds events of "${stream}"`);
}

When('a scavenged segment that holds kept events of {string} is cut back to its 32-byte header', function (this: EventfoldWorld, stream: string) {
  const segment = scavengedSegmentHolding(join(this.storeDir, 'log'), stream);
  truncateSync(segment.path, SEGMENT_HEADER_BYTES);
  scavenges(this).damagedSegment = segment.name;
});

When('the last record of a scavenged segment that holds kept events of {string} is cut off', function (this: EventfoldWorld, stream: string) {
  const segment = scavengedSegmentHolding(join(this.storeDir, 'log'), stream);
  expect(segment.records.length, 'kept records in it').to.be.greaterThan(1);
  truncateSync(segment.path, segment.records[segment.records.length - 1]);
  scavenges(this).damagedSegment = segment.name;
});

Then('eventfold verify says the store is not healthy and names that segment', function (this: EventfoldWorld) {
  const result = runEventfold(['verify', this.storeDir]);
  expect(result.status, result.stdout + result.stderr).to.equal(2);
  expect(result.stderr).to.contain('NOT healthy');
  expect(result.stderr).to.contain(scavenges(this).damagedSegment!);
});

// ---- a read-only open while the application scavenges ----

const DIR = '/store';

/** What the read-only-open-during-a-scavenge steps share. */
const racing = scenarioState(() => ({
  /** The closed store every run starts from (its own disk; each run works on a clone). */
  base: undefined as SimulatedDisk | undefined,
  stream: '',
  events: 0,
  runs: [] as Array<{ before: number; rewritten: number; outcome: string; read: number }>,
}));

Given(
  'a store on a simulated disk with segments of 4 KiB, where {string} has {int} events between those of a deleted stream',
  async function (this: EventfoldWorld, stream: string, count: number) {
    const disk = new SimulatedDisk();
    const store = await EventStore.open(DIR, { fs: disk, segmentSize: 4096 });
    for (let i = 0; i < count; i++) {
      await store.append('gone', [{ type: 'Gone', data: { i, pad: 'x'.repeat(50) } }]);
      await store.append(stream, [{ type: 'Kept', id: `${stream}-${i}`, data: { i } }]);
    }
    await store.deleteStream('gone');
    await store.close();
    Object.assign(racing(this), { base: disk, stream, events: count });
  },
);

When('the application scavenges it during a read-only open, just before the open reads its first, second, … last segment', async function (this: EventfoldWorld) {
  const state = racing(this);
  const segments = (await state.base!.readdir(`${DIR}/log`)).filter((n) => n.endsWith('.seg')).length;
  expect(segments, 'segments').to.be.greaterThan(3);
  for (let before = 1; before <= segments; before++) {
    const disk = state.base!.clone();
    const writer = await EventStore.open(DIR, { fs: disk, segmentSize: 4096 });
    let opens = 0;
    let scavenge: Promise<{ segmentsRewritten: number }> | undefined;
    const open = disk.open.bind(disk);
    disk.open = async (path: string, ...rest: unknown[]) => {
      // The read-only open's reads of segments; the writer's own (during its scavenge) are not counted.
      if (!scavenge && path.endsWith('.seg') && ++opens === before) {
        scavenge = writer.scavenge();
        await scavenge;
      }
      return (open as (path: string, ...rest: unknown[]) => ReturnType<SimulatedDisk['open']>)(path, ...rest);
    };
    let outcome = 'opened';
    let read = 0;
    try {
      const reader = await EventStore.open(DIR, { fs: disk, readOnly: true });
      try {
        read = (await collect(reader.readStream(state.stream))).length;
      } finally {
        await reader.close();
      }
    } catch (error) {
      outcome = String(error);
    }
    disk.open = open;
    const rewritten = scavenge ? (await scavenge).segmentsRewritten : 0;
    await writer.close();
    state.runs.push({ before, rewritten, outcome, read });
  }
  await this.figures({ name: 'read-only opens raced by a scavenge', value: state.runs.length, unit: 'opens' });
});

Then('every read-only open succeeded and read all {int} events of {string}', function (this: EventfoldWorld, count: number, _stream: string) {
  const { runs } = racing(this);
  for (const run of runs) {
    expect(run.rewritten, `run ${run.before}: the scavenge rewrote segments`).to.be.greaterThan(0);
    expect(run.outcome, `run ${run.before}`).to.equal('opened');
    expect(run.read, `run ${run.before}`).to.equal(count);
  }
});

// ---- repair of damage in a scavenged segment ----

const REPAIR_POLICIES: Record<string, PowerLossPolicy[]> = {
  'drops every unsynced write': ['drop-unsynced'],
  'keeps every unsynced write': ['keep-unsynced'],
  'keeps only half of the last unsynced write': [{ tearLastWriteFraction: 0.5 }],
  'writes back a random subset of the dirty pages, 4 subsets per cut': [1, 2, 3, 4].map((seed) => ({ pageSeed: seed })),
};
const CHANGES: DiskOperation[] = ['write', 'datasync', 'create', 'rename', 'unlink', 'syncDir', 'truncate'];

const repairs = scenarioState(() => ({
  /** The damaged store (its own disk: each run works on a clone). */
  damaged: undefined as SimulatedDisk | undefined,
  /** Every event before the damaged record, as read before the damage. */
  before: [] as RecordedEvent[],
  runs: [] as Array<{ cut: string; problem: string | undefined }>,
}));

const REPAIR_OPTIONS = { segmentSize: 4096 };

Given('a scavenged store on a simulated disk in segments of 4 KiB where one bit flips in a kept record of its second segment', async function (this: EventfoldWorld) {
  const disk = new SimulatedDisk();
  const store = await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk });
  for (let i = 0; i < 200; i++) {
    await store.append('gone', [{ type: 'Gone', data: { i, pad: 'x'.repeat(50) } }]);
    await store.append('keep', [{ type: 'Kept', data: { i } }]);
  }
  await store.deleteStream('gone');
  await store.scavenge();
  const all = await readAllEvents(store);
  await store.close();
  const name = (await disk.readdir(`${DIR}/log`)).filter((n) => n.endsWith('.seg')).sort()[1];
  const path = `${DIR}/log/${name}`;
  const bytes = disk.peek(path);
  expect(scavengeMark(bytes), `${name} was scavenged`).to.not.equal(undefined);
  const offsets = recordSpans(bytes).map((span) => span.offset);
  expect(offsets.length, 'kept records in it').to.be.greaterThan(8);
  // The 6th kept record: 5 stay before the damage.
  const damagedPosition = decodeHeader(bytes, offsets[5]).position;
  // A byte of its body, past its stream's name: only the body CRC can tell.
  bytes[offsets[5] + FIXED_RECORD_BYTES + 6] ^= 1;
  disk.overwrite(path, bytes);
  Object.assign(repairs(this), { damaged: disk, before: all.filter((e) => e.position < damagedPosition) });
});

/**
 * After a repair (finished, interrupted, or never recorded): a plain open —
 * repairing again when it meets the damage — must hold exactly the events
 * before the damage; it takes 5 appends, and the next two opens hold them too.
 */
async function settleRepairedStore(disk: SimulatedDisk, before: RecordedEvent[]): Promise<string | undefined> {
  let store: EventStore;
  try {
    store = await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk });
  } catch (error) {
    if ((error as Error).name !== 'CorruptionError') return `plain open: ${String(error)}`;
    store = await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk, repair: 'truncate' });
  }
  const events = await readAllEvents(store);
  if (JSON.stringify(events) !== JSON.stringify(before)) {
    await store.close();
    return `after the repair the store holds ${events.length} events, not the ${before.length} before the damage`;
  }
  const appended: number[] = [];
  for (let i = 0; i < 5; i++) appended.push((await store.append('keep', [{ type: 'AfterRepair', data: { i } }])).position);
  await store.close();
  for (let open = 1; open <= 2; open++) {
    const again = await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk }).catch((error: Error) => error);
    if (again instanceof Error) return `open ${open} after the appends: ${String(again)}`;
    const now = await readAllEvents(again);
    await again.close();
    const tail = now.slice(before.length).map((e) => e.position);
    if (now.length !== before.length + 5 || JSON.stringify(tail) !== JSON.stringify(appended)) return `open ${open} after the appends holds ${now.length} events (appended at ${appended.join(', ')}, found ${tail.join(', ')})`;
  }
  return undefined;
}

When('the store is opened with repair {string}, then opened again and again while 5 events are appended', async function (this: EventfoldWorld, repair: 'truncate') {
  const state = repairs(this);
  const disk = state.damaged!.clone();
  const repaired = await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk, repair });
  expect(repaired.recovery.quarantine, 'the repair set the damaged bytes aside').to.not.equal(null);
  await repaired.close();
  state.runs.push({ cut: 'none', problem: await settleRepairedStore(disk, state.before) });
});

When('the repair of the scavenged segment is cut by a power loss at each of its disk operations in turn and the disk {}', async function (this: EventfoldWorld, policyName: string) {
  const state = repairs(this);
  const policies = REPAIR_POLICIES[policyName];
  expect(policies, `known disk behaviour "${policyName}"`).to.not.equal(undefined);
  const traced = state.damaged!.clone();
  const trace: Array<{ op: DiskOperation; path: string }> = [];
  traced.trace = trace;
  await (await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: traced, repair: 'truncate' })).close();
  const points = trace.filter((call) => CHANGES.includes(call.op));
  expect(points.some((p) => p.op === 'write' && p.path.endsWith('.seg')), 'the repair rewrites a segment header').to.equal(true);
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const after = points.slice(0, i).filter((p) => p.op === point.op).length;
    const disk = state.damaged!.clone();
    disk.inject({ op: point.op, after, powerLoss: true });
    await EventStore.open(DIR, { ...REPAIR_OPTIONS, fs: disk, repair: 'truncate' }).then((s) => s.close()).catch(() => undefined);
    expect(disk.isDead, `the power cut at disk operation ${i} (${point.op} ${point.path}) must have happened`).to.equal(true);
    for (const policy of policies) {
      const cut = `${i} (${point.op} ${point.path}, ${JSON.stringify(policy)})`;
      state.runs.push({ cut, problem: await settleRepairedStore(disk.powerLoss(policy), state.before) });
    }
  }
  await this.figures({ name: 'disk operations of the repair cut', value: points.length, unit: 'points' }, { name: 'runs settled after a cut', value: state.runs.length, unit: 'runs' });
});

Then('every run ends with the events before the damage, and the 5 appended after the repair survive every later open', function (this: EventfoldWorld) {
  const { runs } = repairs(this);
  expect(runs.length).to.be.greaterThan(0);
  for (const run of runs) expect(run.problem, `cut ${run.cut}`).to.equal(undefined);
});

// ---- reads of a stream racing the application's own scavenge ----

When('the application scavenges it while {string} is read forward, backward and from version 150 over and over, and its last append is retried', async function (this: EventfoldWorld, stream: string) {
  const state = racing(this);
  const disk = state.base!.clone();
  // Every read of a file waits for the event loop's next turn, as a real disk's would: the reads, the
  // appends and the scavenge interleave at every disk read, the same way on every run and machine.
  const open = disk.open.bind(disk);
  disk.open = async (...args: Parameters<SimulatedDisk['open']>) => {
    const handle = await open(...args);
    const read = handle.read.bind(handle);
    handle.read = async (...readArgs: Parameters<typeof read>) => {
      await new Promise((resolve) => setImmediate(resolve));
      return read(...readArgs);
    };
    return handle;
  };
  const store = await EventStore.open(DIR, { fs: disk, segmentSize: 4096 });
  let swaps = 0;
  let done = false;
  const outcomes = { reads: 0, acrossSwaps: 0, failures: [] as string[] };
  const last = state.events - 1;
  const expectVersions = (what: string, versions: number[], expected: number[]) => {
    if (JSON.stringify(versions) !== JSON.stringify(expected)) outcomes.failures.push(`${what}: versions ${versions[0]}…${versions[versions.length - 1]} (${versions.length})`);
  };
  const all = Array.from({ length: state.events }, (_, i) => i);
  const reader = (read: () => Promise<void>) =>
    (async () => {
      while (!done) {
        const before = swaps;
        try {
          await read();
        } catch (error) {
          outcomes.failures.push(String(error));
        }
        outcomes.reads++;
        if (swaps !== before) outcomes.acrossSwaps++;
      }
    })();
  const readers = [
    reader(async () => expectVersions('forward', (await collect(store.readStream(stream))).map((e) => e.version), all)),
    reader(async () => expectVersions('backward', (await collect(store.readStream(stream, { direction: 'backward' }))).map((e) => e.version), [...all].reverse())),
    reader(async () => expectVersions('from 150', (await collect(store.readStream(stream, { from: 150 }))).map((e) => e.version), all.slice(150))),
    reader(async () => {
      const retried = await store.append(stream, [{ type: 'Kept', id: `${stream}-${last}`, data: { i: last } }]);
      if (retried.version !== last) outcomes.failures.push(`the retry was taken as a new append: version ${retried.version}`);
    }),
  ];
  const result = await store.scavenge({ onProgress: () => void swaps++ }).finally(() => (done = true));
  await Promise.all(readers);
  await store.close();
  expect(result.segmentsRewritten, 'segments rewritten').to.be.greaterThan(3);
  Object.assign(racing(this), { raced: outcomes });
  await this.figures({ name: 'reads made during the scavenge', value: outcomes.reads, unit: 'reads' }, { name: 'reads that ran across a segment swap', value: outcomes.acrossSwaps, unit: 'reads' });
});

Then('no read failed or returned other events, and at least {int} of them ran across a segment swap', function (this: EventfoldWorld, atLeast: number) {
  const { raced } = racing(this) as unknown as { raced: { reads: number; acrossSwaps: number; failures: string[] } };
  expect(raced.failures.slice(0, 5), `${raced.failures.length} of ${raced.reads} reads failed`).to.deep.equal([]);
  expect(raced.acrossSwaps).to.be.at.least(atLeast);
});

// ---- erasure of damaged records in quarantine ----

When('one bit flips in the data of the first event of {string}, and a repair sets it aside with the {int} after it', async function (this: EventfoldWorld, stream: string, after: number) {
  const events = await collect(this.store!.readStream(stream));
  expect(events.length, `events of "${stream}"`).to.equal(after + 1);
  await this.store!.close();
  const logDir = join(this.storeDir, 'log');
  let flipped = false;
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg'))) {
    const path = join(logDir, name);
    const bytes = readFileSync(path);
    const record = recordSpans(bytes).find(({ offset }) => decodeHeader(bytes, offset).position === events[0].position);
    if (record === undefined) continue;
    // The last byte of its data: the header (and so the stream's name) stays readable, the body fails its CRC.
    bytes[record.offset + record.length - 1] ^= 1;
    writeFileSync(path, bytes);
    flipped = true;
  }
  expect(flipped, 'the record was found').to.equal(true);
  await this.openStore({ repair: 'truncate' });
  const quarantine = this.store!.recovery.quarantine;
  expect(quarantine, 'the repair quarantined the damaged record and the ones after it').to.not.equal(null);
  expect(quarantine!.lastPosition).to.equal(events[0].position - 1);
  expect(filesUnderHolding(join(this.storeDir, 'quarantine'), scavenges(this).marker!)).to.have.length.greaterThan(0);
});

/** Every file under `dir` whose bytes contain `text`. */
function filesUnderHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else if (readFileSync(path).includes(Buffer.from(text))) found.push(path);
  };
  walk(dir);
  return found;
}
