import type { RecordedEvent } from '../api';
import { CorruptionError, StoreNotFoundError } from '../errors';
import { readLifecycleChange, StreamLifecycles, streamsReadsReturn, SYSTEM_STREAM } from '../lifecycle/stream-metadata';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { readOnlyFileSystem } from '../fs/read-only-file-system';
import { StreamIndex } from '../log/stream-index';
import { currentOwner, type LockOwner } from './lock';
import type { RecoveryReport } from '../log-reports';
import { scanLog } from './scan-log';
import { checkSnapshotLogEnd } from '../snapshot/log-end';
import { readCleanMarker } from './clean-marker';
import { decodeSnapshot, type SnapshotContents } from '../snapshot/snapshot-file';
import { checkHeadsWhileScanning } from '../snapshot/snapshot-heads';
import { listSnapshots, snapshotRemoved } from '../snapshot/snapshots';
import { checkpointFile, listCheckpoints } from '../snapshot/checkpoint-file';
import { parseSegmentName } from '../log/segment-file';
import { CLEAN_MARKER, logDirOf, quarantineDirOf, quarantineFile, REPAIR_RECORD, snapshotDirOf, snapshotFile } from '../store-layout';

/** What `eventfold verify` and `eventfold info` report about a store directory. */
export interface StoreInspection {
  directory: string;
  healthy: boolean;
  /** Each problem names its file and byte offset. */
  problems: string[];
  segments: Array<{ name: string; bytes: number; firstPosition: number }>;
  /** Events stored in the log (read and checked): after a scavenge fewer than its positions, which have holes. */
  events: number;
  /** Streams whose events reads return, as `store.streams()` counts them (not the store's own "$lifecycle", not deleted ones). */
  streams: number;
  firstPosition: number | null;
  lastPosition: number | null;
  bytesOnDisk: number;
  /** True when the CLEAN marker is there: the last close was clean. */
  cleanShutdown: boolean;
  /** True when a store holds the lock now (asked of the lock itself, not of the LOCK file's presence). */
  locked: boolean;
  /** The owner holding the lock now, as its LOCK note names it (pid -1: not written yet); null when not open. */
  openBy: LockOwner | null;
  /** Each snapshot, newest first, whether it passed its checks (format, CRC, and its log end against the log) and if not why. */
  snapshots: Array<{ name: string; bytes: number; position: number | null; ok: boolean; problem?: string }>;
  /** Each subscription's stored checkpoint (last handled global position, null when damaged) and how many events it has not handled. */
  subscriptions: Array<{ name: string; position: number | null; lag: number | null; problem?: string }>;
  /** True when a repair was interrupted: the next open that may write finishes it. */
  repairPending: boolean;
  /** What an open would cut or remove (a torn last write is not a problem: after a crash it is cut, see tornTail). */
  wouldRecover: Pick<RecoveryReport, 'tornTail' | 'removedFiles'>;
}

/**
 * Reads every segment, checking every CRC, position and stream version,
 * without taking the lock and without changing a byte (all through the
 * read-only file layer, which refuses any write).
 */
export async function inspectStore(
  directory: string,
  anyFs: FileSystem = new NodeFileSystem(),
  onSegment?: (scanned: number, total: number) => void,
): Promise<StoreInspection> {
  const fs = readOnlyFileSystem(anyFs);
  if (!(await fs.exists(directory))) throw new CorruptionError({ file: directory, offset: 0, reason: 'no such store directory' });
  if (!(await fs.exists(logDirOf(directory)))) throw new StoreNotFoundError(directory);
  const index = new StreamIndex();
  const owner = await currentOwner(fs, directory);
  const inspection: StoreInspection = {
    directory,
    healthy: true,
    problems: [],
    segments: [],
    events: 0,
    streams: 0,
    firstPosition: null,
    lastPosition: null,
    bytesOnDisk: 0,
    cleanShutdown: await fs.exists(`${directory}/${CLEAN_MARKER}`),
    locked: owner !== null,
    openBy: owner,
    snapshots: [],
    subscriptions: [],
    repairPending: await fs.exists(`${quarantineDirOf(directory)}/${REPAIR_RECORD}`),
    wouldRecover: { tornTail: null, removedFiles: [] },
  };
  // Listed from the directory, so that they show even when the log is damaged.
  const logDir = logDirOf(directory);
  if (await fs.exists(logDir)) {
    for (const name of (await fs.readdir(logDir)).sort()) {
      const base = parseSegmentName(name);
      if (base === undefined) continue;
      const handle = await fs.open(`${logDir}/${name}`);
      const bytes = await handle.size();
      await handle.close();
      inspection.segments.push({ name, bytes, firstPosition: base });
      inspection.bytesOnDisk += bytes;
    }
  }
  if (inspection.repairPending) {
    inspection.healthy = false;
    inspection.problems.push(`an interrupted repair is recorded in ${quarantineFile(REPAIR_RECORD)}: the next open finishes it`);
  }
  // Snapshots and checkpoints first, the log after: a writer that keeps going
  // adds to the log, so everything read before the scan is covered by it (read
  // after it, a new snapshot could cover more than the scan saw).
  const snapshots = (await readSnapshots(fs, directory)).map(decoded);
  const checkpoints = await listCheckpoints(fs, directory);
  const lifecycles = new LifecyclesSeen();
  // Each snapshot's stream heads, name table and sparse offsets are compared with the log when the scan reaches its position.
  const heads = checkHeadsWhileScanning(snapshots.flatMap((s) => (s.contents ? [{ ...s.contents, snapshot: snapshotFile(s.name) }] : [])), index);
  let stored = 0;
  try {
    const clean = await readCleanMarker(fs, directory);
    const scan = await scanLog(fs, directory, index, { repair: 'none', readOnly: true, onSegment, onCommit: (events) => {
        stored += events.length;
        lifecycles.take(events);
      }, onDurable: heads.onDurable, cleanPosition: clean.marker?.position });
    inspection.wouldRecover = { tornTail: scan.tornTail, removedFiles: scan.removedFiles };
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    inspection.healthy = false;
    inspection.problems.push(error.message);
  }
  await checkSnapshots(fs, directory, index, inspection, snapshots, heads.problems);
  checkSubscriptions(index, inspection, checkpoints);
  inspection.events = stored;
  // Counted as store.streams() counts: the streams reads return (not the store's own "$lifecycle", nor deleted ones).
  inspection.streams = lifecycles.streamsReadsReturn(index, Date.now()).length;
  inspection.firstPosition = index.durableCount > 0 ? 0 : null;
  inspection.lastPosition = index.durableCount > 0 ? index.durableCount - 1 : null;
  return inspection;
}

/** Each snapshot's bytes; one removed meanwhile (a live writer keeps only the newest few) is left out. */
async function readSnapshots(fs: FileSystem, directory: string): Promise<Array<{ name: string; bytes: Buffer }>> {
  const snapshots: Array<{ name: string; bytes: Buffer }> = [];
  for (const name of await listSnapshots(fs, directory)) {
    try {
      snapshots.push({ name, bytes: await fs.readFile(`${snapshotDirOf(directory)}/${name}`) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return snapshots;
}

/** A snapshot read, decoded (`contents`) or found damaged (`damage`). */
interface SnapshotRead {
  name: string;
  bytes: Buffer;
  contents?: SnapshotContents;
  damage?: unknown;
}

function decoded({ name, bytes }: { name: string; bytes: Buffer }): SnapshotRead {
  try {
    return { name, bytes, contents: decodeSnapshot(bytes, name) };
  } catch (damage) {
    return { name, bytes, damage };
  }
}

/**
 * Every snapshot must pass its checks, cover no more than the log holds, and
 * say of each stream what the log says (`untrue`: what the scan found
 * otherwise, by snapshot file). One that fails them but is gone by now is
 * left out, as one removed before it was read: the writer removed it while
 * the log was read (a scavenge removes every snapshot before it rewrites the
 * segments they point into).
 */
async function checkSnapshots(fs: FileSystem, directory: string, index: StreamIndex, inspection: StoreInspection, snapshots: SnapshotRead[], untrue: ReadonlyMap<string, CorruptionError>): Promise<void> {
  for (const { name, bytes, contents, damage } of snapshots) {
    const file = snapshotFile(name);
    try {
      if (!contents) throw damage;
      if (inspection.healthy && contents.position >= index.durableCount) {
        throw new CorruptionError({ file, offset: 0, reason: `covers position ${contents.position}, but the log ends at position ${index.durableCount - 1}` });
      }
      // A snapshot the open would skip is not damage of the log, but it is reported.
      const unusable = await checkSnapshotLogEnd(fs, directory, file, contents);
      if (unusable && (await snapshotRemoved(fs, directory, name))) continue;
      // One the open would use, whose heads are not the log's, is: the background check finds it so.
      if (!unusable && untrue.has(file)) throw untrue.get(file);
      inspection.bytesOnDisk += bytes.length;
      inspection.snapshots.push({ name, bytes: bytes.length, position: contents.position, ok: unusable === null, ...(unusable ? { problem: `an open skips it: ${unusable}` } : {}) });
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      if (await snapshotRemoved(fs, directory, name)) continue;
      inspection.bytesOnDisk += bytes.length;
      inspection.snapshots.push({ name, bytes: bytes.length, position: null, ok: false, problem: error.message });
      inspection.healthy = false;
      inspection.problems.push(error.message);
    }
  }
}

/** Each checkpoint with its lag; a damaged one is a problem (its subscribe fails until told where to resume). */
function checkSubscriptions(index: StreamIndex, inspection: StoreInspection, checkpoints: Awaited<ReturnType<typeof listCheckpoints>>): void {
  const last = index.durableCount - 1;
  for (const checkpoint of checkpoints) {
    if ('damaged' in checkpoint) {
      const problem = `subscription "${checkpoint.name}": its checkpoint ${checkpointFile(checkpoint.name)} is damaged (${checkpoint.damaged}); subscribe with { from } or { onDamagedCheckpoint: 'restart' }`;
      inspection.subscriptions.push({ name: checkpoint.name, position: null, lag: null, problem });
      inspection.healthy = false;
      inspection.problems.push(problem);
    } else {
      const beyond = checkpoint.position > last && inspection.healthy;
      inspection.subscriptions.push({
        name: checkpoint.name,
        position: checkpoint.position,
        lag: Math.max(0, last - checkpoint.position),
        ...(beyond ? { problem: `its checkpoint is past the log's end (position ${last}): the next open resets it to ${last}` } : {}),
      });
    }
  }
}

/**
 * The stream metadata and deletions an inspection's scan reads (the store's
 * own stream), and each stream's newest timestamps, to count streams as the
 * store does: a stream under a maxAge counts while an event of it is kept.
 */
class LifecyclesSeen {
  private readonly lifecycles = new StreamLifecycles();
  /**
   * Per stream, the events no later event is as new as: [version, timestamp]
   * pairs, versions ascending, timestamps descending — one pair (its last
   * event) unless a clock went back. The newest timestamp from version v up
   * is the first pair's at or above v.
   */
  private readonly newest = new Map<string, number[]>();

  take(events: readonly RecordedEvent[]): void {
    for (const event of events) {
      if (event.stream !== SYSTEM_STREAM) {
        this.note(event.stream, event.version, event.timestamp);
        continue;
      }
      const change = readLifecycleChange(event);
      if (change) this.lifecycles.apply(change, event.version);
    }
  }

  streamsReadsReturn(index: StreamIndex, now: number): string[] {
    return streamsReadsReturn([...index.streams].map(([name, head]) => [name, head.version] as const), this.lifecycles, now, (stream, retention) => {
      const pairs = this.newest.get(stream) ?? [];
      for (let i = 0; i < pairs.length; i += 2) if (pairs[i] >= retention.fromVersion) return pairs[i + 1] >= retention.minTimestamp;
      return false;
    });
  }

  private note(stream: string, version: number, timestamp: number): void {
    const pairs = this.newest.get(stream);
    if (!pairs) {
      this.newest.set(stream, [version, timestamp]);
      return;
    }
    while (pairs.length > 0 && pairs[pairs.length - 1] <= timestamp) pairs.length -= 2;
    pairs.push(version, timestamp);
  }
}
