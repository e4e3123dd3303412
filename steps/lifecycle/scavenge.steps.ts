import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, SimulatedDisk, type DiskOperation, type PowerLossPolicy, type RecordedEvent, type ScavengeProgress, type ScavengeResult, type StoreOptions } from '../../src/index';
import { decodeHeader } from '../../src/log/record';
import { segmentName } from '../../src/log/segment-file';
import { decodeSnapshot } from '../../src/snapshot/snapshot-file';
import { filesHolding, filesHoldingOnDisk, LAST_TEXTS } from '../support/erasure';
import { collect, numberedEvents, readAllEvents } from '../support/events';
import { logBytes } from '../support/log-files';
import { queryDatabase } from '../support/postgres';
import { eventsTableSize } from '../support/postgres-tables';
import { runEventfold } from '../support/eventfold-cli';
import { recordSpans } from '../support/damage';
import { scavenges } from '../support/scavenge-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The file log's own scavenge scenarios: bulk streams, the power-cut sweep, reads beside a scavenge. */
const scavengeSteps = scenarioState(() => ({
  /** How many bulk streams were appended so far (the next ones are numbered on). */
  bulkStreams: undefined as number | undefined,
  /** The sweep's store before any cut, how it runs, and the segments before and after a clean scavenge of it. */
  base: undefined as SimulatedDisk | undefined,
  sweep: undefined as Sweep | undefined,
  segmentsBefore: undefined as Map<string, Buffer> | undefined,
  segmentsAfter: undefined as Map<string, Buffer> | undefined,
  /** The subscription checkpoint file the sweep's store holds. */
  checkpointFile: undefined as string | undefined,
  /** What each power cut of the sweep left. */
  cuts: undefined as ScavengeCut[] | undefined,
  /** Appends acknowledged while a scavenge ran. */
  raced: undefined as { acknowledged: number } | undefined,
  /** A read-only store open beside the writer, what it read before the scavenge, and each of its reads during it. */
  readOnlyBeside: undefined as EventStore | undefined,
  readerSawBefore: undefined as RecordedEvent[] | undefined,
  readerReads: undefined as RecordedEvent[][] | undefined,
  /** Stream reads made during a scavenge: each read's versions, and the two reads a scavenge ran across. */
  streamReads: undefined as Array<{ stream: string; versions: number[] }> | undefined,
  partReads: undefined as Record<'forward' | 'backward', PartRead> | undefined,
}));

/** Everything reads return now, kept to compare with after the scavenge (on PostgreSQL also the table's size). */
async function rememberKept(world: EventfoldWorld): Promise<void> {
  scavenges(world).keptBefore = await readAllEvents(world.store!);
  scavenges(world).logBytesBefore = await logBytes(world);
  if (world.database) scavenges(world).tableBefore = await eventsTableSize(world);
}

/** Streams bulk-<first> to bulk-<first + streams - 1>, interleaved 100 events at a time. */
async function appendBulk(world: EventfoldWorld, first: number, streams: number, each: number): Promise<void> {
  const pad = 'x'.repeat(1000);
  for (let round = 0; round < each; round += 100) {
    for (let s = first; s < first + streams; s++) {
      await world.store!.append(`bulk-${s}`, Array.from({ length: Math.min(100, each - round) }, (_, i) => ({ type: 'Filled', data: { i: round + i, pad } })));
    }
  }
}

Given('{int} streams of {int} events of 1 KB each', async function (this: EventfoldWorld, streams: number, each: number) {
  await appendBulk(this, 0, streams, each);
  scavengeSteps(this).bulkStreams = streams;
});

When('{int} more streams of {int} events of 1 KB each are appended', async function (this: EventfoldWorld, streams: number, each: number) {
  const first = scavengeSteps(this).bulkStreams!;
  await appendBulk(this, first, streams, each);
  scavengeSteps(this).bulkStreams = first + streams;
});

Given('{int} of those streams are deleted', async function (this: EventfoldWorld, count: number) {
  for (let s = 1; s <= count; s++) await this.store!.deleteStream(`bulk-${s}`);
});

When(/^the store is scavenged( with erase)?$/, async function (this: EventfoldWorld, erase: string | null) {
  await rememberKept(this);
  const progress: ScavengeProgress[] = [];
  scavenges(this).scavenge = await this.store!.scavenge({ onProgress: (p) => void progress.push(p), erase: Boolean(erase) });
  scavenges(this).progress = progress;
  const result = scavenges(this).scavenge!;
  const storage = this.database ? 'events table' : 'log';
  await this.figures(
    { name: `${storage} bytes before`, value: result.bytesBefore, unit: 'bytes' },
    { name: `${storage} bytes after`, value: result.bytesAfter, unit: 'bytes' },
    { name: 'events removed', value: result.eventsRemoved, unit: 'events' },
    { name: this.database ? 'streams that lost events' : 'segments rewritten', value: result.segmentsRewritten, unit: this.database ? 'streams' : 'segments' },
    { name: 'scavenge time', value: Math.round(result.durationMs), unit: 'ms' },
  );
});

Then('the log takes between {int}% and {int}% of its bytes before', async function (this: EventfoldWorld, low: number, high: number) {
  const before = scavenges(this).logBytesBefore!;
  const after = await logBytes(this);
  const share = (100 * after) / before;
  await this.figures({ name: 'log size after the scavenge', value: Math.round(share * 10) / 10, unit: '% of before' });
  expect(share).to.be.within(low, high);
});

Then('the scavenge reported its progress segment by segment', function (this: EventfoldWorld) {
  const progress = scavenges(this).progress!;
  const result = scavenges(this).scavenge!;
  expect(progress.length).to.equal(result.segmentsTotal);
  expect(progress.length).to.be.greaterThan(10);
  progress.forEach((p, i) => expect(p.segmentsDone).to.equal(i + 1));
});

Then('every kept event reads back exactly as before, at the same position', async function (this: EventfoldWorld) {
  const now = await readAllEvents(this.store!);
  const before = scavenges(this).keptBefore!;
  expect(now.length).to.equal(before.length);
  expect(now).to.deep.equal(before);
});

Then('the next append takes the position after the last one', async function (this: EventfoldWorld) {
  const last = this.store!.position;
  const result = await this.store!.append('after-scavenge', [{ type: 'Next' }]);
  expect(result.position).to.equal(last + 1);
  scavenges(this).keptBefore = [...(scavenges(this).keptBefore!), ...(await collect(this.store!.readStream('after-scavenge')))];
});

// ---- the storage itself ----

/** The projections a scavenge scenario's store may fold: a count of its events, or each stream's last text. */
const SCAVENGE_PROJECTIONS: Record<string, StoreOptions['projections']> = {
  'counting events': { count: { initialState: { n: 0 }, version: 1, evolve: (draft: { n: number }) => void draft.n++ } } as never,
  "keeping each stream's last text": LAST_TEXTS as never,
};

/**
 * Small segments make a scavenge of a few thousand events go through many of them. "On the file log": the
 * scenario runs on PostgreSQL too, which has no segments (a scenario without it is about files only).
 */
Given(
  /^a new store(?: with a projection (counting events|keeping each stream's last text),)? whose segments roll every (\d+) KiB( on the file log)?$/,
  async function (this: EventfoldWorld, projection: string | null | undefined, kib: string, fileLogOnly: string | null | undefined) {
    if (!(fileLogOnly && this.database)) this.storeOptions.segmentSize = Number(kib) * 1024;
    if (projection) this.storeOptions.projections = SCAVENGE_PROJECTIONS[projection];
    await this.openStore();
  },
);

Then('the storage holds {int} events of {string} and {int} of {string}', async function (this: EventfoldWorld, a: number, streamA: string, b: number, streamB: string) {
  const stored = this.database ? await rowsPerStream(this.database) : recordsPerStream(join(this.storeDir, 'log'));
  expect({ [streamA]: stored.get(streamA) ?? 0, [streamB]: stored.get(streamB) ?? 0 }).to.deep.equal({ [streamA]: a, [streamB]: b });
});

/**
 * File log: eventfold verify (every segment, CRC and position). PostgreSQL:
 * the rows from the newest scavenge's record to the position counter's end
 * are dense (only a scavenge may leave holes, below its record), and no row
 * is past its stream's recorded version.
 */
Then('the storage checks out healthy', async function (this: EventfoldWorld) {
  if (!this.database) return verifyHealthy(this.storeDir);
  const [check] = await queryDatabase<{ rows: string; expected: string; past: string }>(
    this.database,
    `WITH w AS (SELECT coalesce(max(position), 0) AS below FROM eventfold_events WHERE stream = '$lifecycle' AND type = '$scavenge')
     SELECT (SELECT count(*) FROM eventfold_events, w WHERE position >= w.below) AS rows,
            (SELECT next_position FROM eventfold_log) - (SELECT below FROM w) AS expected,
            (SELECT count(*) FROM eventfold_events e JOIN eventfold_streams s USING (stream) WHERE e.version > s.version) AS past`,
  );
  expect({ rows: Number(check.rows), past: Number(check.past) }).to.deep.equal({ rows: Number(check.expected), past: 0 });
});

Then('eventfold verify says the store is healthy', function (this: EventfoldWorld) {
  verifyHealthy(this.storeDir);
});

function verifyHealthy(storeDir: string): void {
  const result = runEventfold(['verify', storeDir]);
  expect(result.status, result.stdout + result.stderr).to.equal(0);
  expect(result.stdout).to.contain('is healthy');
}

/** How many records of each stream the log's segment files hold. */
function recordsPerStream(logDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg'))) {
    const bytes = readFileSync(join(logDir, name));
    for (const { offset } of recordSpans(bytes)) {
      const { stream } = decodeHeader(bytes, offset);
      counts.set(stream, (counts.get(stream) ?? 0) + 1);
    }
  }
  return counts;
}

/** How many rows of each stream the events table holds. */
async function rowsPerStream(database: string): Promise<Map<string, number>> {
  const rows = await queryDatabase<{ stream: string; n: string }>(database, 'SELECT stream, count(*) AS n FROM eventfold_events GROUP BY stream');
  return new Map(rows.map((row) => [row.stream, Number(row.n)]));
}

Then('the scavenge removed {int} events', function (this: EventfoldWorld, count: number) {
  expect(scavenges(this).scavenge!.eventsRemoved).to.equal(count);
});

Then('the scavenge erased {int} metadata records', function (this: EventfoldWorld, count: number) {
  expect(scavenges(this).scavenge!.metadataRecordsErased).to.equal(count);
});

// ---- erasure ----

Given('{string} has {int} events holding the text {string}', async function (this: EventfoldWorld, stream: string, count: number, text: string) {
  scavenges(this).marker = text;
  scavenges(this).markerStream = stream;
  for (let i = 0; i < count; i++) await this.store!.append(stream, [{ type: 'Registered', data: { i, note: `${text} lives at number ${i}` } }]);
});

Given("a repair has set aside a copy of some of {string}'s events in quarantine", async function (this: EventfoldWorld, stream: string) {
  // One event of another stream, damaged on disk, followed by 10 more of the marked stream: a repair cuts at the damage and quarantines them all.
  const damaged = await this.store!.append('orders-damaged', [{ type: 'Placed' }]);
  for (let i = 0; i < 10; i++) await this.store!.append(stream, [{ type: 'Registered', data: { i, note: `${scavenges(this).marker!} after the damage` } }]);
  await this.store!.close();
  flipBitInRecord(join(this.storeDir, 'log'), damaged.position);
  await this.openStore({ repair: 'truncate' });
  expect(this.store!.recovery.quarantine, 'the repair quarantined the damaged tail').to.not.equal(null);
  expect(filesHolding(this.storeDir, scavenges(this).marker!).some((file) => file.includes('quarantine'))).to.equal(true);
});

Then('no file of the store holds the text {string}', function (this: EventfoldWorld, text: string) {
  expect(filesHolding(this.storeDir, text)).to.deep.equal([]);
});

/** Flips one bit in the body of the record of `position`, wherever it is in the log. */
function flipBitInRecord(logDir: string, position: number): string {
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg'))) {
    const path = join(logDir, name);
    const bytes = readFileSync(path);
    const record = recordSpans(bytes).find(({ offset }) => decodeHeader(bytes, offset).position === position);
    if (record) {
      // Its last byte: the header (and so the stream's name) stays readable, the body fails its CRC.
      bytes[record.offset + record.length - 1] ^= 1;
      writeFileSync(path, bytes);
      return name;
    }
  }
  throw new Error(`no record of position ${position}`);
}

// ---- racing appends ----

When('the store is scavenged while {int} appends to {string} are made and {string} is read', async function (this: EventfoldWorld, appends: number, stream: string, _alsoRead: string) {
  const store = this.store!;
  let acknowledged = 0;
  const writing = (async () => {
    for (let i = 0; i < appends; i++) {
      await store.append(stream, [{ type: 'Raced', data: { i } }]);
      acknowledged++;
      if (i % 25 === 0) {
        const events = await collect(store.readStream(stream));
        expect(events.map((e) => e.version)).to.deep.equal(events.map((_, k) => k));
      }
    }
  })();
  const [result] = await Promise.all([store.scavenge(), writing]);
  scavenges(this).scavenge = result;
  scavengeSteps(this).raced = { acknowledged };
});

Then('all {int} appends were acknowledged and {string} reads back {int} events', async function (this: EventfoldWorld, appends: number, stream: string, count: number) {
  expect(scavengeSteps(this).raced!.acknowledged).to.equal(appends);
  expect(await collect(this.store!.readStream(stream))).to.have.length(count);
});

// ---- power cuts ----

const DIR = '/store';
const FSYNC_OPS: DiskOperation[] = ['datasync', 'syncDir'];
const POLICIES: Record<string, PowerLossPolicy[]> = {
  'drops every unsynced write': ['drop-unsynced'],
  'keeps every unsynced write': ['keep-unsynced'],
  'keeps only half of the last unsynced write': [{ tearLastWriteFraction: 0.5 }],
  'writes back a random subset of the dirty pages, 4 subsets per cut': [1, 2, 3, 4].map((seed) => ({ pageSeed: seed })),
};
const SEGMENT_SIZE = 4 * 1024;

/** How the power-cut sweep opens its stores, where it cuts, and the text of the stream deleted for good it looks for after a rerun. */
interface Sweep {
  options: StoreOptions;
  ops: DiskOperation[];
  marker?: string;
}

/** The store the sweep scavenges: 6 streams of 20 events; "s-1" (holding `marker` when given) deleted for good, two deleted softly, one with maxCount 3. */
async function sweepStore(world: EventfoldWorld, sweep: Sweep, beforeClose: (store: EventStore) => Promise<void> = async () => undefined): Promise<void> {
  const disk = new SimulatedDisk();
  const store = await EventStore.open(DIR, { ...sweep.options, fs: disk });
  for (let round = 0; round < 4; round++) {
    for (let s = 0; s < 6; s++) {
      const events = numberedEvents(5, round * 5);
      if (s === 1 && sweep.marker) events.forEach((event, i) => (event.data = { ...(event.data as object), note: `${sweep.marker} #${round * 5 + i}` }));
      await store.append(`s-${s}`, events);
    }
  }
  await store.deleteStream('s-0');
  await store.deleteStream('s-1', { hard: true });
  await store.deleteStream('s-2');
  await store.setStreamMetadata('s-3', { maxCount: 3 });
  await beforeClose(store);
  const kept = await readAllEvents(store);
  await store.close();
  scavengeSteps(world).base = disk.clone();
  scavenges(world).keptBefore = kept;
  scavengeSteps(world).sweep = sweep;
}

Given('a store on a simulated disk with segments of 4 KiB where half of the streams were deleted and one has maxCount 3', async function (this: EventfoldWorld) {
  await sweepStore(this, { options: { segmentSize: SEGMENT_SIZE }, ops: FSYNC_OPS });
});

/** Every disk call that changes what a power cut leaves. */
const CHANGING_OPS: DiskOperation[] = ['create', 'write', 'datasync', 'truncate', 'rename', 'unlink', 'syncDir'];

Given(
  'a store on a simulated disk with segments of 4 KiB where half of the streams were deleted and one has maxCount 3, the one deleted for good held the text {string}, a projection keeps each stream\'s last text and a checkpoint was taken last',
  async function (this: EventfoldWorld, marker: string) {
    await sweepStore(this, { options: { segmentSize: SEGMENT_SIZE, projections: LAST_TEXTS as never }, ops: CHANGING_OPS, marker }, async (store) => {
      // 5 more of the stream with maxCount 3: 2 of them, in the segment the checkpoint ends in, are removed by the scavenge.
      await store.append('s-3', numberedEvents(5, 20));
      const checkpoint = await store.checkpoint();
      scavengeSteps(this).checkpointFile = checkpoint!.file;
    });
  },
);

Then('the checkpoint ends in a segment that the scavenge rewrote', async function (this: EventfoldWorld) {
  const base = scavengeSteps(this).base!;
  const contents = decodeSnapshot(base.peek(`${DIR}/${scavengeSteps(this).checkpointFile!}`), scavengeSteps(this).checkpointFile!.split('/').pop()!);
  const name = segmentName(contents.logEnd.segmentBase);
  const before = scavengeSteps(this).segmentsBefore!.get(name);
  const after = scavengeSteps(this).segmentsAfter!.get(name);
  expect(before, `segment ${name}`).to.not.equal(undefined);
  expect(after!.length, `segment ${name} is shorter after the scavenge`).to.be.lessThan(before!.length);
});

async function segmentsOf(disk: SimulatedDisk): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await disk.readdir(`${DIR}/log`)).filter((n) => n.endsWith('.seg'))) files.set(name, disk.peek(`${DIR}/log/${name}`));
  return files;
}

async function scavengeOn(disk: SimulatedDisk, options: StoreOptions, beforeScavenge: (disk: SimulatedDisk) => void): Promise<void> {
  const store = await EventStore.open(DIR, { ...options, fs: disk });
  beforeScavenge(disk);
  await store.scavenge().catch((error: Error) => {
    if (!disk.isDead) throw error;
  });
  await store.close().catch((error: Error) => {
    if (!disk.isDead) throw error;
  });
}

interface ScavengeCut {
  point: string;
  segments: Map<string, Buffer>;
  kept: RecordedEvent[];
  keptAfterSecondCut: RecordedEvent[];
  /** With a marker: where it is found after the scavenge is run again to its end, and whether the reopened projection holds it. */
  erasure?: { files: string[]; inProjection: boolean };
}

When(/^the power is cut at each (fsync point|disk call) of a scavenge in turn and the disk (.+)$/, async function (this: EventfoldWorld, _points: string, keeps: string) {
  const base = scavengeSteps(this).base!;
  const { options, ops, marker } = scavengeSteps(this).sweep!;
  const policies = POLICIES[keeps];
  expect(policies, `known disk behaviour "${keeps}"`).to.not.equal(undefined);
  const clean = base.clone();
  const trace: Array<{ op: DiskOperation; path: string }> = [];
  await scavengeOn(clean, options, (disk) => (disk.trace = trace));
  scavengeSteps(this).segmentsBefore = await segmentsOf(base);
  scavengeSteps(this).segmentsAfter = await segmentsOf(clean);
  const points = trace.filter((call) => ops.includes(call.op));
  const cuts: ScavengeCut[] = [];
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const sameOpBefore = points.slice(0, i).filter((p) => p.op === point.op).length;
    const disk = base.clone();
    await scavengeOn(disk, options, (d) => d.inject({ op: point.op, after: sameOpBefore, powerLoss: true }));
    expect(disk.isDead, `the power cut at disk call ${i} (${point.op} ${point.path}) must have happened`).to.equal(true);
    for (const policy of policies) {
      const after = disk.powerLoss(policy);
      const segments = await segmentsOf(after);
      // A second cut, at the first fsync of the next open, then a third open.
      const twice = after.clone();
      twice.inject({ op: 'syncDir', after: 0, powerLoss: true });
      await EventStore.open(DIR, { ...options, fs: twice }).then((s) => s.close()).catch(() => undefined);
      expect(twice.isDead, 'the second power cut must have happened').to.equal(true);
      const third = twice.powerLoss('drop-unsynced');
      const store = await EventStore.open(DIR, { ...options, fs: after });
      const kept = await readAllEvents(store);
      await store.close();
      const reopened = await EventStore.open(DIR, { ...options, fs: third });
      const keptAfterSecondCut = await readAllEvents(reopened);
      await reopened.close();
      const cut: ScavengeCut = { point: `${i} (${point.op} ${point.path}, ${JSON.stringify(policy)})`, segments, kept, keptAfterSecondCut };
      if (marker) cut.erasure = await scavengeAgain(after, options, marker);
      cuts.push(cut);
    }
  }
  scavengeSteps(this).cuts = cuts;
  await this.figures(
    { name: 'disk calls of the scavenge cut', value: points.length, unit: 'points' },
    { name: 'disks reopened after a cut', value: cuts.length, unit: 'reopens' },
  );
  expect(points.length).to.be.greaterThan(5);
});

/** Runs a scavenge to its end on `disk`, then looks for `marker` in every file, and in the projection states after a reopen. */
async function scavengeAgain(disk: SimulatedDisk, options: StoreOptions, marker: string): Promise<{ files: string[]; inProjection: boolean }> {
  const store = await EventStore.open(DIR, { ...options, fs: disk });
  await store.scavenge();
  await store.close();
  const files = await filesHoldingOnDisk(disk, DIR, marker);
  const reopened = await EventStore.open(DIR, { ...options, fs: disk });
  const inProjection = Object.keys(options.projections ?? {}).some((name) => JSON.stringify(reopened.state(name as never)).includes(marker));
  await reopened.close();
  return { files, inProjection };
}

Then('after every cut a scavenge run again leaves the text of the stream deleted for good in no file, nor in the projection after a reopen', function (this: EventfoldWorld) {
  for (const cut of scavengeSteps(this).cuts!) {
    expect(cut.erasure, `cut ${cut.point}`).to.deep.equal({ files: [], inProjection: false });
  }
});

Then('after every cut each segment is either as it was or as the scavenge rewrote it', function (this: EventfoldWorld) {
  const before = scavengeSteps(this).segmentsBefore!;
  const after = scavengeSteps(this).segmentsAfter!;
  let rewritten = 0;
  for (const [name, bytes] of before) if (!after.get(name)?.equals(bytes)) rewritten++;
  expect(rewritten, 'the clean scavenge rewrote segments').to.be.greaterThan(1);
  for (const cut of scavengeSteps(this).cuts!) {
    for (const [name, old] of before) {
      const now = cut.segments.get(name);
      expect(now, `cut ${cut.point}: ${name} is there`).to.not.equal(undefined);
      expect(now!.equals(old) || now!.equals(after.get(name)!), `cut ${cut.point}: ${name} is as before or as after`).to.equal(true);
    }
  }
});

Then('after every cut the store opens with every kept event exactly as before', function (this: EventfoldWorld) {
  const kept = scavenges(this).keptBefore!;
  for (const cut of scavengeSteps(this).cuts!) expect(cut.kept, `cut ${cut.point}`).to.deep.equal(kept);
});

Then('after every cut a second power cut during the next open changes nothing of that', function (this: EventfoldWorld) {
  const kept = scavenges(this).keptBefore!;
  for (const cut of scavengeSteps(this).cuts!) expect(cut.keptAfterSecondCut, `cut ${cut.point}`).to.deep.equal(kept);
});

When('one bit flips in the kept event of version {int} of {string}', function (this: EventfoldWorld, version: number, stream: string) {
  const event = scavenges(this).keptBefore!.find((e) => e.stream === stream && e.version === version)!;
  scavenges(this).damagedSegment = flipBitInRecord(join(this.storeDir, 'log'), event.position);
});

Then('the open fails with a CorruptionError naming the segment that holds it', function (this: EventfoldWorld) {
  expect((this.lastError as Error)?.name, String(this.lastError)).to.equal('CorruptionError');
  expect((this.lastError as { file: string }).file).to.equal(`log/${scavenges(this).damagedSegment!}`);
});

// ---- projections ----


// ---- a read-only store beside the scavenging writer ----

After(async function (this: EventfoldWorld) {
  await scavengeSteps(this).readOnlyBeside?.close().catch(() => undefined);
});

Given('a read-only store is open beside the writer and has read {string} and {string}', async function (this: EventfoldWorld, a: string, b: string) {
  const reader = await EventStore.open(this.storeDir, { readOnly: true });
  scavengeSteps(this).readOnlyBeside = reader;
  for (const stream of [a, b]) expect(await collect(reader.readStream(stream))).to.not.deep.equal([]);
  scavengeSteps(this).readerSawBefore = await readAllEvents(reader);
});

When('the store is scavenged while the read-only store reads every event again and again', async function (this: EventfoldWorld) {
  const reader = scavengeSteps(this).readOnlyBeside!;
  await rememberKept(this);
  let scavenging = true;
  const reads: RecordedEvent[][] = [];
  const reading = (async () => {
    // At least one read starts after the scavenge has finished: its segments are the rewritten ones.
    for (let last = false; !last; ) {
      last = !scavenging;
      reads.push(await readAllEvents(reader));
    }
  })();
  scavenges(this).scavenge = await this.store!.scavenge().finally(() => (scavenging = false));
  await reading;
  scavengeSteps(this).readerReads = reads;
  await this.figures({ name: 'reads by the read-only store during the scavenge', value: reads.length, unit: 'reads' });
});

Then('every read of the read-only store returned every kept event, in order, and nothing it had not seen before', function (this: EventfoldWorld) {
  const before = new Map(scavengeSteps(this).readerSawBefore!.map((event) => [event.position, event]));
  const kept = scavenges(this).keptBefore!.filter((event) => before.has(event.position));
  for (const read of scavengeSteps(this).readerReads!) {
    for (const event of read) expect(event, `position ${event.position}`).to.deep.equal(before.get(event.position));
    const positions = new Set(read.map((event) => event.position));
    expect(kept.filter((event) => !positions.has(event.position)).map((event) => event.position), 'kept events missing').to.deep.equal([]);
    read.forEach((event, i) => i === 0 || expect(event.position).to.be.greaterThan(read[i - 1].position));
  }
});

Then(
  'after a refresh the read-only store reads what the writer reads: every event, and {string}, {string} and {string} both ways',
  async function (this: EventfoldWorld, a: string, b: string, c: string) {
    const reader = scavengeSteps(this).readOnlyBeside!;
    expect(await reader.refresh()).to.equal(this.store!.position);
    expect(await readAllEvents(reader)).to.deep.equal(await readAllEvents(this.store!));
    for (const stream of [a, b, c]) {
      for (const direction of ['forward', 'backward'] as const) {
        expect(await collect(reader.readStream(stream, { direction })), `${stream} ${direction}`).to.deep.equal(await collect(this.store!.readStream(stream, { direction })));
      }
    }
  },
);

/** Files of `dir` this process holds open although they were removed or replaced (Linux: /proc/self/fd says "(deleted)"). */
function deletedFilesHeldOpen(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target.startsWith(dir) && target.endsWith(' (deleted)')) held.push(target);
  }
  return held;
}

Then('no file the scavenge replaced is still open in this process: its disk space is free already', function (this: EventfoldWorld) {
  expect(deletedFilesHeldOpen(this.storeDir)).to.deep.equal([]);
});

When('the store is scavenged while {string} and {string} are read both ways again and again', async function (this: EventfoldWorld, a: string, b: string) {
  const store = this.store!;
  let scavenging = true;
  const reads: Array<{ stream: string; versions: number[] }> = [];
  const reading = (async () => {
    for (let last = false; !last; ) {
      last = !scavenging;
      for (const stream of [a, b]) {
        for (const direction of ['forward', 'backward'] as const) {
          const versions = (await collect(store.readStream(stream, { direction }))).map((event) => event.version);
          reads.push({ stream, versions: direction === 'forward' ? versions : versions.reverse() });
        }
      }
    }
  })();
  scavenges(this).scavenge = await store.scavenge().finally(() => (scavenging = false));
  await reading;
  scavengeSteps(this).streamReads = reads;
  await this.figures({ name: 'stream reads during the scavenge', value: reads.length, unit: 'reads' });
});

Then('every read of {string} returned versions {int} to {int} and every read of {string} versions {int} to {int}', function (this: EventfoldWorld, a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number) {
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const expected: Record<string, number[]> = { [a]: range(aFrom, aTo), [b]: range(bFrom, bTo) };
  for (const read of scavengeSteps(this).streamReads!) expect(read.versions, read.stream).to.deep.equal(expected[read.stream]);
});

Given('{string} and {string} have {int} events each, appended in turns', async function (this: EventfoldWorld, a: string, b: string, count: number) {
  for (let i = 0; i < count; i++) for (const stream of [a, b]) await this.store!.append(stream, [{ type: 'Measured', data: { i, note: 'x'.repeat(40) } }]);
});

interface PartRead {
  iterator: AsyncGenerator<RecordedEvent>;
  versions: number[];
}

When('{string} is read forward and backward up to their {int}th event', async function (this: EventfoldWorld, stream: string, count: number) {
  const reads: Record<'forward' | 'backward', PartRead> = {
    forward: { iterator: this.store!.readStream(stream)[Symbol.asyncIterator]() as AsyncGenerator<RecordedEvent>, versions: [] },
    backward: { iterator: this.store!.readStream(stream, { direction: 'backward' })[Symbol.asyncIterator]() as AsyncGenerator<RecordedEvent>, versions: [] },
  };
  for (const read of Object.values(reads)) {
    while (read.versions.length < count) read.versions.push(((await read.iterator.next()).value as RecordedEvent).version);
  }
  scavengeSteps(this).partReads = reads;
});

When('the rest of both reads is read', async function (this: EventfoldWorld) {
  for (const read of Object.values(scavengeSteps(this).partReads!)) {
    for (let next = await read.iterator.next(); !next.done; next = await read.iterator.next()) read.versions.push(next.value.version);
  }
});

Then('the forward read returned versions {int} to {int} and the backward read versions {int} to {int}', function (this: EventfoldWorld, f0: number, f1: number, b0: number, b1: number) {
  const reads = scavengeSteps(this).partReads!;
  const count = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (to >= from ? from + i : from - i));
  expect(reads.forward.versions).to.deep.equal(count(f0, f1));
  expect(reads.backward.versions).to.deep.equal(count(b0, b1));
});
