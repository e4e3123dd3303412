import { CorruptionError } from '../errors';
import { ensureDir, fsError, writeFileAtomic, type FileHandle, type FileSystem } from '../fs/file-system';
import { crc32 } from '../log/crc';
import { encodeSegmentHeader, parseSegmentName, scavengeMark, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import { listSnapshots } from '../snapshot/snapshots';
import { parseSnapshotName } from '../snapshot/snapshot-file';
import { listCheckpoints, resetCheckpointsBeyond, type CheckpointReset } from '../snapshot/checkpoint-file';
import { logDirOf, logFile, quarantineDirOf, quarantineFile, REPAIR_RECORD, snapshotDirOf, snapshotFile } from '../store-layout';
import { countValidRecords } from './count-valid-records';
import type { RecoveryReport } from '../log-reports';

// The repair record's header (REPAIR-FORMAT.md beside this file); the plan as UTF-8 JSON follows it.
const MAGIC = Buffer.from('EVFLDREP', 'ascii');
const AT_REPAIR_MAGIC = 0;
const AT_REPAIR_BODY_BYTES = 8; // u32: the plan's length in bytes
const AT_REPAIR_BODY_CRC = 12; // u32: CRC-32 of the plan
const HEADER_BYTES = 16;

/**
 * The plan of the explicit repair, which runs as a transaction (format:
 * REPAIR-FORMAT.md beside this file). Before anything changes, the whole decision is written down durably
 * in `quarantine/REPAIR`: where the log is cut, which bytes and segments move
 * into `quarantine/`, which snapshots are set aside and which subscription
 * checkpoints are reset. Then each step is carried out idempotently, and the
 * record is retired (renamed to `quarantine/<id>.repair`) only once every
 * step is durable. Any later open — plain or repairing — that finds
 * `quarantine/REPAIR` carries out the same plan again before anything else,
 * so a power cut at any step converges on the same store.
 */
export interface RepairPlan {
  /** Names this repair's files in quarantine/ (an ISO time, filename-safe). */
  id: string;
  reason: string;
  /** The new end of the log: the cut segment, the offset it is cut at (0: it is removed whole), the last position kept (-1: none). */
  cut: { segment: string; offset: number; lastPosition: number };
  /** Where bytes [cut.offset, end) of the cut segment are copied, and how many (null when the segment moves whole). */
  cutCopy: { file: string; bytes: number } | null;
  /** Whole segments moved from log/ to quarantine/. */
  segments: Array<{ name: string; file: string; bytes: number }>;
  /** Snapshots covering a position past the cut, moved from snapshots/ to quarantine/. */
  snapshots: Array<{ name: string; file: string; position: number }>;
  /** Subscription checkpoints past the cut, rewritten to `cut.lastPosition`. */
  checkpoints: Array<{ name: string; position: number }>;
  /** Well-formed records found in the bytes set aside. */
  records: number;
  /**
   * When the cut segment is a scavenged one that keeps records: its header is
   * rewritten to say what the cut leaves — the positions it spans now (up to
   * `cut.lastPosition`) and where its kept records end (`cut.offset`).
   * Absent otherwise (and in plans written before it existed).
   */
  cutHeader?: { span: number; end: number };
}

export type QuarantineReport = NonNullable<RecoveryReport['quarantine']>;

/** Where a repair cuts the log, and why: what the log scan found. */
export interface RepairCut {
  /** The log's segments, oldest first. */
  segments: Segment[];
  /** The segment that is cut; every later one is set aside whole. */
  damagedIndex: number;
  /** An open handle of that segment. */
  handle: FileHandle;
  /** Where it is cut: the end of the last commit before the damage (0: the whole segment is set aside). */
  cutOffset: number;
  /** Why: the corruption found. */
  reason: string;
  /** The last event kept (-1: none). */
  lastPosition: number;
}

/**
 * Called by the log scan when `repair: 'truncate'` meets damage: plans the
 * cut (everything after it, later segments included, goes to quarantine/),
 * writes the plan down, and carries it out.
 */
export async function quarantineFrom(fs: FileSystem, dir: string, repair: RepairCut): Promise<QuarantineReport> {
  const { segments, damagedIndex, handle, cutOffset, lastPosition } = repair;
  const id = new Date().toISOString().replace(/[:.]/g, '-');
  const damaged = segments[damagedIndex];
  const size = await handle.size();
  let records = 0;
  const later = segments.slice(damagedIndex + 1);
  const plan: RepairPlan = {
    id,
    reason: repair.reason,
    cut: { segment: damaged.name, offset: cutOffset, lastPosition },
    cutCopy: null,
    segments: [],
    snapshots: [],
    checkpoints: [],
    records: 0,
  };
  if (cutOffset === 0) {
    later.unshift(damaged);
  } else {
    const cut = Buffer.allocUnsafe(size - cutOffset);
    await handle.read(cut, 0, cut.length, cutOffset);
    records += countValidRecords(cut);
    plan.cutCopy = { file: `${id}-${damaged.name}-from-${cutOffset}`, bytes: cut.length };
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await handle.read(header, 0, header.length, 0);
    if (scavengeMark(header)) plan.cutHeader = { span: lastPosition + 1 - damaged.base, end: cutOffset };
  }
  for (const segment of later) {
    const content = await fs.readFile(`${logDirOf(dir)}/${segment.name}`);
    records += countValidRecords(content);
    plan.segments.push({ name: segment.name, file: `${id}-${segment.name}`, bytes: content.length });
  }
  plan.records = records;
  for (const name of await listSnapshots(fs, dir)) {
    const position = parseSnapshotName(name)!;
    if (position > lastPosition) plan.snapshots.push({ name, file: `${id}-${name}`, position });
  }
  for (const checkpoint of await listCheckpoints(fs, dir)) {
    if ('position' in checkpoint && checkpoint.position > lastPosition) plan.checkpoints.push({ name: checkpoint.name, position: checkpoint.position });
  }
  await ensureDir(fs, quarantineDirOf(dir));
  await writeFileAtomic(fs, quarantineDirOf(dir), REPAIR_RECORD, encodeRepairPlan(plan));
  return carryOut(fs, dir, plan, false);
}

/**
 * Run first by every open that may write: finishes a repair a crash
 * interrupted, exactly as it was planned. Returns its report, or null when
 * there was none. A damaged repair record fails a plain open (its plan cannot
 * be known); a repairing open sets it aside and redoes the repair from the
 * log itself (its scan cuts again, and it sets aside every snapshot and
 * checkpoint past the end it finds).
 */
export async function finishInterruptedRepair(fs: FileSystem, dir: string, repairing: boolean): Promise<QuarantineReport | null> {
  const quarantine = quarantineDirOf(dir);
  if (!(await fs.exists(quarantine))) return null;
  const names = await fs.readdir(quarantine);
  let report: QuarantineReport | null = null;
  if (names.includes(REPAIR_RECORD)) {
    const file = quarantineFile(REPAIR_RECORD);
    let plan: RepairPlan;
    try {
      plan = decodeRepairPlan(await fs.readFile(`${dir}/${file}`), file);
    } catch (error) {
      if (!(error instanceof CorruptionError) || !repairing) {
        throw new CorruptionError({
          file,
          offset: 0,
          reason: `an interrupted repair left its record damaged, so it cannot be finished as planned (${(error as Error).message}); open with repair: 'truncate' to repair the log again from what it holds`,
        });
      }
      await fs.rename(`${dir}/${file}`, `${quarantine}/${new Date().toISOString().replace(/[:.]/g, '-')}.damaged-repair`);
      await fs.syncDir(quarantine);
      return null;
    }
    report = await carryOut(fs, dir, plan, true);
  }
  // Temp files of a repair whose record never became durable: nothing was changed by it.
  const temps = (await fs.readdir(quarantine)).filter((n) => n.endsWith('.tmp'));
  for (const name of temps) await fs.unlink(`${quarantine}/${name}`);
  if (temps.length > 0) await fs.syncDir(quarantine);
  return report;
}

/** Every step checks what is already done, so running it twice changes nothing more. */
async function carryOut(fs: FileSystem, dir: string, plan: RepairPlan, resumed: boolean): Promise<QuarantineReport> {
  const quarantine = quarantineDirOf(dir);
  const logDir = logDirOf(dir);
  const cutPath = `${logDir}/${plan.cut.segment}`;
  // 1. The cut bytes, copied while the segment still holds them (durable before the truncation below).
  if (plan.cutCopy && (await fs.exists(cutPath))) {
    const handle = await fs.open(cutPath);
    try {
      const size = await handle.size();
      if (size > plan.cut.offset) {
        const bytes = Buffer.allocUnsafe(size - plan.cut.offset);
        await handle.read(bytes, 0, bytes.length, plan.cut.offset);
        await writeFileAtomic(fs, quarantine, plan.cutCopy.file, bytes);
        // 2. The cut itself.
        await handle.truncate(plan.cut.offset);
        await handle.datasync();
      }
    } finally {
      await handle.close();
    }
  }
  // 2b. A scavenged segment's header must say what the cut leaves (the scan checks its span and end): written
  //     whole every time the plan is carried out, so a torn write of it is mended by the next open.
  if (plan.cutHeader && (await fs.exists(cutPath))) {
    const header = encodeSegmentHeader(parseSegmentName(plan.cut.segment)!, plan.cutHeader);
    const handle = await fs.open(cutPath);
    try {
      if ((await handle.write(header, 0)) !== header.length) throw fsError('EIO', `short write of the header of ${cutPath}`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
  // 3. Whole segments after the cut. The quarantine entry is made durable before the log's
  //    entry is removed, so a power cut leaves the file in one place or both, never neither.
  let moved = false;
  for (const segment of plan.segments) {
    if (!(await fs.exists(`${logDir}/${segment.name}`))) continue;
    await fs.rename(`${logDir}/${segment.name}`, `${quarantine}/${segment.file}`);
    moved = true;
  }
  if (moved || resumed) {
    await fs.syncDir(quarantine);
    await fs.syncDir(logDir);
  }
  // 4. Snapshots that cover cut events would bring them back: set aside.
  const snapDir = snapshotDirOf(dir);
  const snapshots = [...plan.snapshots];
  for (const name of await listSnapshots(fs, dir)) {
    const position = parseSnapshotName(name)!;
    if (position > plan.cut.lastPosition && !snapshots.some((s) => s.name === name)) snapshots.push({ name, file: `${plan.id}-${name}`, position });
  }
  moved = false;
  for (const snapshot of snapshots) {
    if (!(await fs.exists(`${snapDir}/${snapshot.name}`))) continue;
    await fs.rename(`${snapDir}/${snapshot.name}`, `${quarantine}/${snapshot.file}`);
    moved = true;
  }
  if (moved || (resumed && (await fs.exists(snapDir)))) {
    await fs.syncDir(quarantine);
    await fs.syncDir(snapDir);
  }
  // 5. Checkpoints past the new end: the positions after it will be taken by new events.
  await resetCheckpointsBeyond(fs, dir, plan.cut.lastPosition);
  // 6. Done: the record is kept as history under a name no open acts on.
  await fs.rename(`${quarantine}/${REPAIR_RECORD}`, `${quarantine}/${plan.id}.repair`);
  await fs.syncDir(quarantine);
  return reportOf(plan, resumed);
}

function reportOf(plan: RepairPlan, resumed: boolean): QuarantineReport {
  const files = [...(plan.cutCopy ? [plan.cutCopy.file] : []), ...plan.segments.map((s) => s.file)].map(quarantineFile);
  return {
    files,
    cutFile: logFile(plan.cut.segment),
    cutOffset: plan.cut.offset,
    bytes: (plan.cutCopy?.bytes ?? 0) + plan.segments.reduce((sum, s) => sum + s.bytes, 0),
    records: plan.records,
    reason: plan.reason,
    lastPosition: plan.cut.lastPosition,
    snapshotsSetAside: plan.snapshots.map((s) => ({ file: snapshotFile(s.name), movedTo: quarantineFile(s.file), position: s.position })),
    checkpointsReset: plan.checkpoints.map((c): CheckpointReset => ({ name: c.name, from: c.position, to: plan.cut.lastPosition })),
    resumedAfterCrash: resumed,
  };
}

/** `EVFLDREP`, u32 body length, u32 CRC-32 of the body, then the plan as UTF-8 JSON. */
export function encodeRepairPlan(plan: RepairPlan): Buffer {
  const body = Buffer.from(JSON.stringify(plan), 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, AT_REPAIR_MAGIC);
  header.writeUInt32LE(body.length, AT_REPAIR_BODY_BYTES);
  header.writeUInt32LE(crc32(body), AT_REPAIR_BODY_CRC);
  return Buffer.concat([header, body]);
}

export function decodeRepairPlan(bytes: Buffer, file: string): RepairPlan {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(AT_REPAIR_MAGIC, AT_REPAIR_MAGIC + MAGIC.length).equals(MAGIC)) throw new CorruptionError({ file, offset: 0, reason: 'not a repair record (bad magic or too short)' });
  const length = bytes.readUInt32LE(AT_REPAIR_BODY_BYTES);
  if (HEADER_BYTES + length !== bytes.length) throw new CorruptionError({ file, offset: AT_REPAIR_BODY_BYTES, reason: `header says ${length} bytes, the file holds ${bytes.length - HEADER_BYTES}` });
  const expectedCrc = bytes.readUInt32LE(AT_REPAIR_BODY_CRC);
  const actualCrc = crc32(bytes.subarray(HEADER_BYTES));
  if (expectedCrc !== actualCrc) throw new CorruptionError({ file, offset: HEADER_BYTES, reason: 'repair record fails its checksum', expectedCrc, actualCrc });
  return JSON.parse(bytes.subarray(HEADER_BYTES).toString('utf8')) as RepairPlan;
}

/** A read-only open cannot finish an interrupted repair, and must not read the half-repaired log as if it were whole. */
export async function refuseUnfinishedRepair(fs: FileSystem, dir: string): Promise<null> {
  const file = quarantineFile(REPAIR_RECORD);
  if (await fs.exists(`${dir}/${file}`)) {
    throw new CorruptionError({ file, offset: 0, reason: 'a repair was interrupted and is not finished yet; open the store for writing (not read-only) to finish it' });
  }
  return null;
}
