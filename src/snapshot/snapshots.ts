import { CorruptionError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { ensureDir, writeFileAtomic } from '../fs/file-system';
import { checkSnapshotLogEnd, recordFingerprint } from './log-end';
import { decodeSnapshot, encodeSnapshot, parseSnapshotName, snapshotName, type SnapshotContents } from './snapshot-file';
import { quarantineDirOf, quarantineFile, snapshotDirOf, snapshotFile } from '../store-layout';

export interface SnapshotChoice {
  /** The newest snapshot that passed its checks, or null. */
  chosen: { file: string; contents: SnapshotContents } | null;
  /** Newer snapshots that were passed over, and why. */
  skipped: Array<{ file: string; reason: string }>;
  /** Leftover temp files of interrupted snapshot writes that were removed. */
  removedFiles: string[];
}

/** Snapshot file names, newest first. */
export async function listSnapshots(fs: FileSystem, dir: string): Promise<string[]> {
  const snapDir = snapshotDirOf(dir);
  if (!(await fs.exists(snapDir))) return [];
  return (await fs.readdir(snapDir))
    .map((name) => ({ name, position: parseSnapshotName(name) }))
    .filter((s): s is { name: string; position: number } => s.position !== undefined)
    .sort((a, b) => b.position - a.position)
    .map((s) => s.name);
}

/**
 * Finds the newest snapshot whose checksum and format are good and whose
 * recorded log end the log confirms (see log-end.ts), falling back to older
 * ones. Removes temp files a crash left behind (unless `readOnly`). A repair
 * reads the whole log and passes `checkLogEnd: false`.
 */
export async function loadNewestSnapshot(fs: FileSystem, dir: string, { readOnly = false, checkLogEnd = true } = {}): Promise<SnapshotChoice> {
  const snapDir = snapshotDirOf(dir);
  const choice: SnapshotChoice = { chosen: null, skipped: [], removedFiles: [] };
  if (!(await fs.exists(snapDir))) return choice;
  const temps = (await fs.readdir(snapDir)).filter((n) => n.endsWith('.tmp'));
  for (const name of temps) {
    if (!readOnly) await fs.unlink(`${snapDir}/${name}`);
    choice.removedFiles.push(snapshotFile(name));
  }
  if (temps.length > 0 && !readOnly) await fs.syncDir(snapDir);
  for (const name of await listSnapshots(fs, dir)) {
    const file = snapshotFile(name);
    let contents: SnapshotContents;
    try {
      contents = decodeSnapshot(await fs.readFile(`${snapDir}/${name}`), name);
      if (contents.position !== parseSnapshotName(name)) {
        throw new CorruptionError({ file, offset: 0, reason: `holds position ${contents.position}, its name says ${parseSnapshotName(name)}` });
      }
    } catch (error) {
      choice.skipped.push({ file, reason: error instanceof CorruptionError ? error.message : `cannot be decoded: ${(error as Error).message}` });
      continue;
    }
    // Outside the try: a log shorter than the snapshot is lost events, which must fail the open.
    const unusable = checkLogEnd ? await checkLogEndOf(fs, dir, name, contents, readOnly) : null;
    if (unusable) {
      choice.skipped.push({ file, reason: unusable });
      continue;
    }
    choice.chosen = { file, contents };
    return choice;
  }
  return choice;
}

/**
 * checkSnapshotLogEnd, for an open that may run beside the writer: a
 * read-only open reads a snapshot, then the log, while the writer goes on.
 * A scavenge removes every snapshot (durably) before it puts its first
 * rewritten, shorter segment in place, so a log that no longer reaches the
 * snapshot's end while the snapshot is gone says only that the snapshot
 * went stale while it was read: it is passed over. With the snapshot still
 * there, a shorter log is lost events, as for any open.
 */
async function checkLogEndOf(fs: FileSystem, dir: string, name: string, contents: SnapshotContents, readOnly: boolean): Promise<string | null> {
  const file = snapshotFile(name);
  try {
    return await checkSnapshotLogEnd(fs, dir, file, contents);
  } catch (error) {
    if (readOnly && error instanceof CorruptionError && (await snapshotRemoved(fs, dir, name))) return `it was removed while this open read it (a scavenge or a newer snapshot replaced it)`;
    throw error;
  }
}

/** True when the snapshot `name` is no longer in `snapshots/` (checked after the log was read, see checkLogEndOf). */
export async function snapshotRemoved(fs: FileSystem, dir: string, name: string): Promise<boolean> {
  return !(await fs.exists(`${snapshotDirOf(dir)}/${name}`));
}

/**
 * Writes a snapshot durably (temp file, fsync, rename, directory fsync), then
 * removes all but the newest `keep`. A crash at any step leaves the previous
 * snapshots usable: the new one exists only once its rename is durable.
 */
export async function writeSnapshot(fs: FileSystem, dir: string, contents: SnapshotContents, keep: number): Promise<string> {
  const snapDir = snapshotDirOf(dir);
  await ensureDir(fs, snapDir);
  const name = snapshotName(contents.position);
  await writeFileAtomic(fs, snapDir, name, encodeSnapshot(contents));
  const stale = (await listSnapshots(fs, dir)).slice(keep);
  for (const old of stale) await fs.unlink(`${snapDir}/${old}`);
  if (stale.length > 0) await fs.syncDir(snapDir);
  return snapshotFile(name);
}

/**
 * Fills in `contents.lastRecord` (see snapshot-file.ts) from the log, read
 * with `read(segmentIndex, offset, length)`. `segmentIndex` is the index of
 * the last record's segment among `contents.segmentBases`; its record ends at
 * `logEnd` in that segment, or at `segmentEnd` when a newer, still empty
 * segment holds `logEnd`.
 */
export async function recordLastRecord(
  contents: SnapshotContents,
  segmentIndex: number,
  segmentEnd: number,
  read: (segmentIndex: number, offset: number, length: number) => Promise<Buffer>,
): Promise<void> {
  const at = contents.streams.positions.indexOf(contents.position);
  if (at < 0) return;
  const segmentBase = contents.segmentBases[segmentIndex];
  const offset = contents.streams.offsets[at];
  const end = segmentBase === contents.logEnd.segmentBase ? contents.logEnd.offset : segmentEnd;
  const bytes = await read(segmentIndex, offset, end - offset);
  contents.lastRecord = { segmentBase, offset, length: bytes.length, crc: recordFingerprint(bytes) };
}

/**
 * After a repair cut the log, moves the snapshots that cover positions past
 * its new end into `quarantine/` (nothing is deleted). Returns what was moved.
 */
export async function quarantineSnapshotsBeyond(fs: FileSystem, dir: string, lastPosition: number): Promise<Array<{ file: string; reason: string }>> {
  const beyond = (await listSnapshots(fs, dir)).filter((name) => parseSnapshotName(name)! > lastPosition);
  return quarantineSnapshots(
    fs,
    dir,
    beyond.map((name) => ({ name, why: `covers position ${parseSnapshotName(name)}, past the repaired log's end at ${lastPosition}` })),
  );
}

/**
 * Moves each snapshot named into `quarantine/` (nothing is deleted), saying
 * why; one no longer there is left out. Returns what was moved.
 */
export async function quarantineSnapshots(fs: FileSystem, dir: string, snapshots: ReadonlyArray<{ name: string; why: string }>): Promise<Array<{ file: string; reason: string }>> {
  const moved: Array<{ file: string; reason: string }> = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const { name, why } of snapshots) {
    if (!(await fs.exists(`${snapshotDirOf(dir)}/${name}`))) continue;
    await ensureDir(fs, quarantineDirOf(dir));
    await fs.rename(`${snapshotDirOf(dir)}/${name}`, `${quarantineDirOf(dir)}/${stamp}-${name}`);
    moved.push({ file: snapshotFile(name), reason: `${why}: moved to ${quarantineFile(`${stamp}-${name}`)}` });
  }
  if (moved.length > 0) {
    // The new entries first: a power cut in between leaves a snapshot in both places, never in neither.
    await fs.syncDir(quarantineDirOf(dir));
    await fs.syncDir(snapshotDirOf(dir));
  }
  return moved;
}

/**
 * Every snapshot that decodes and whose contents hold the position its name
 * says, newest first (for a repair, which checks each against the log it
 * reads whole: see snapshot-heads.ts). Damaged ones are left out: no open
 * uses them.
 */
export async function decodeEverySnapshot(fs: FileSystem, dir: string): Promise<Array<{ name: string; contents: SnapshotContents }>> {
  const decoded: Array<{ name: string; contents: SnapshotContents }> = [];
  for (const name of await listSnapshots(fs, dir)) {
    const bytes = await fs.readFile(`${snapshotDirOf(dir)}/${name}`);
    try {
      const contents = decodeSnapshot(bytes, name);
      if (contents.position === parseSnapshotName(name)) decoded.push({ name, contents });
    } catch {
      // Damaged: skipped by every open, reported by `eventfold verify`.
    }
  }
  return decoded;
}
