import { writeFileDurably } from '../fs/write-file-durably';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { InvalidInputError } from '../errors';
import { fsError, type FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { decodeSnapshot } from '../snapshot/snapshot-file';
import { listSnapshots } from '../snapshot/snapshots';
import { readCheckpointFiles } from '../snapshot/checkpoint-file';
import { CHECKPOINT_DIR, CLEAN_MARKER, LOG_DIR, SNAPSHOT_DIR, snapshotDirOf, snapshotFile, SYSTEM_STREAMS_MARKER } from '../store-layout';
import { encodeCleanMarker } from './clean-marker';
import type { BackupResult } from '../log-reports';

const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/** The log as it stands at one instant: every segment and how many of its bytes hold durable, committed appends. */
export interface LogEnd {
  /** Global position of the last durable event (-1: none). */
  position: number;
  segments: Array<{ name: string; bytes: number }>;
}

/**
 * Copies a live store into `dest` as a store that opens on its own:
 *
 * 1. subscription checkpoints are read first, so none is ahead of the log copied next;
 * 2. `logEnd()` names the durable end of the log at one instant (synchronously,
 *    between two batches): each segment is copied up to there. Bytes below a
 *    segment's durable end never change, so the writer can keep appending;
 * 3. the newest snapshot that passes its checks and covers no more than that
 *    end is copied (a newer one would describe events the copy does not hold);
 * 4. a CLEAN marker for that position is written: the copy is a store closed cleanly there.
 *
 * Everything is built in a hidden sibling of `dest`, every file and directory
 * fsynced, then renamed to `dest` and the parent fsynced: `dest` never holds a
 * half-written backup. The LOCK file and quarantine/ are not copied.
 */
export async function backupStore(
  fs: FileSystem,
  sourceDir: string,
  destFs: FileSystem,
  dest: string,
  logEnd: () => LogEnd,
  /** A writable view of the source's storage, used only to fdatasync its segments (a read-only store's `fs` refuses that). */
  syncFs: FileSystem = destFs,
): Promise<BackupResult> {
  const started = performance.now();
  if (await destFs.exists(dest)) throw new InvalidInputError(`backup destination ${dest} already exists; name a new directory`);
  const parent = nodePath.dirname(dest);
  if (!(await destFs.exists(parent))) throw new InvalidInputError(`backup destination's parent directory ${parent} does not exist`);

  const subscriptions = await readCheckpointFiles(fs, sourceDir);
  const end = logEnd();
  // A reader's end can include a batch the writer has written but not yet
  // fsynced. Making the source's bytes durable first means the copy never
  // holds an event that a power loss could still take from the store.
  for (const segment of end.segments) await syncFile(syncFs, `${sourceDir}/${LOG_DIR}/${segment.name}`);
  const snapshot = await newestSnapshotUpTo(fs, sourceDir, end.position);

  const temp = `${parent}/.${nodePath.basename(dest)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  let bytes = 0;
  try {
    await destFs.mkdirp(`${temp}/${LOG_DIR}`);
    for (const segment of end.segments) {
      bytes += await copyPrefix(fs, `${sourceDir}/${LOG_DIR}/${segment.name}`, destFs, `${temp}/${LOG_DIR}/${segment.name}`, segment.bytes);
    }
    await destFs.syncDir(`${temp}/${LOG_DIR}`);
    if (snapshot) {
      await destFs.mkdirp(`${temp}/${SNAPSHOT_DIR}`);
      bytes += await writeFileDurably(destFs, `${temp}/${snapshot.file}`, snapshot.bytes);
      await destFs.syncDir(`${temp}/${SNAPSHOT_DIR}`);
    }
    if (subscriptions.length > 0) {
      await destFs.mkdirp(`${temp}/${CHECKPOINT_DIR}`);
      for (const { file, bytes: content } of subscriptions) bytes += await writeFileDurably(destFs, `${temp}/${file}`, content);
      await destFs.syncDir(`${temp}/${CHECKPOINT_DIR}`);
    }
    // The same marker a clean close leaves (see store.ts): the copy is a store closed cleanly at `position`.
    await writeFileDurably(destFs, `${temp}/${CLEAN_MARKER}`, encodeCleanMarker(end.position));
    // The source was opened by this version: its "$" streams are the store's own, and so are the copy's.
    bytes += await copySystemStreamsMarker(fs, sourceDir, destFs, temp);
    await destFs.syncDir(temp);
    if (await destFs.exists(dest)) throw new InvalidInputError(`backup destination ${dest} appeared while the backup was written`);
    await destFs.rename(temp, dest);
    await destFs.syncDir(parent);
  } catch (error) {
    if (destFs instanceof NodeFileSystem) await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  return {
    directory: dest,
    position: end.position,
    segments: end.segments.length,
    snapshot: snapshot?.file ?? null,
    subscriptions: subscriptions.map((s) => s.name),
    bytes,
    durationMs: performance.now() - started,
  };
}

async function syncFile(fs: FileSystem, path: string): Promise<void> {
  const handle = await fs.open(path);
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function newestSnapshotUpTo(fs: FileSystem, dir: string, position: number): Promise<{ file: string; bytes: Buffer } | null> {
  for (const name of await listSnapshots(fs, dir)) {
    try {
      const bytes = await fs.readFile(`${snapshotDirOf(dir)}/${name}`);
      if (decodeSnapshot(bytes, name).position <= position) return { file: snapshotFile(name), bytes };
    } catch {
      // Damaged, or pruned by the writer since it was listed: an older one will do.
    }
  }
  return null;
}

async function copyPrefix(from: FileSystem, source: string, to: FileSystem, target: string, length: number): Promise<number> {
  const input = await from.open(source, 'read');
  const output = await to.create(target);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(length, 1)));
    for (let at = 0; at < length; ) {
      const read = await input.read(buffer, 0, Math.min(buffer.length, length - at), at);
      if (read === 0) throw fsError('EIO', `${source} ended at ${at} bytes while ${length} were durable`);
      const written = await output.write(buffer.subarray(0, read), at);
      if (written !== read) throw fsError('EIO', `short write to ${target}`);
      at += read;
    }
    await output.datasync();
  } finally {
    await input.close();
    await output.close();
  }
  return length;
}


/** The SYSTEM-STREAMS marker, when the source has one (a read-only open of an unmarked store has no "$" streams to mark). */
async function copySystemStreamsMarker(from: FileSystem, sourceDir: string, to: FileSystem, temp: string): Promise<number> {
  const source = `${sourceDir}/${SYSTEM_STREAMS_MARKER}`;
  if (!(await from.exists(source))) return 0;
  return writeFileDurably(to, `${temp}/${SYSTEM_STREAMS_MARKER}`, await from.readFile(source));
}
