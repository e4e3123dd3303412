import { CorruptionError, StoreNotFoundError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { readOnlyFileSystem } from '../fs/read-only-file-system';
import { StreamIndex } from '../state/stream-index';
import { currentOwner, type LockOwner } from './lock';
import type { RecoveryReport } from './report';
import { scanLog } from './scan-log';
import { decodeSnapshot, SNAPSHOT_DIR } from '../snapshot/snapshot-file';
import { listSnapshots } from '../snapshot/snapshots';

/** What `eventfold verify` and `eventfold info` report about a store directory. */
export interface StoreInspection {
  directory: string;
  healthy: boolean;
  /** Each problem names its file and byte offset. */
  problems: string[];
  segments: Array<{ name: string; bytes: number; firstPosition: number }>;
  events: number;
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
  /** Each snapshot, newest first, and whether it passed its checks. */
  snapshots: Array<{ name: string; bytes: number; position: number | null; ok: boolean }>;
  /** Each subscription's stored checkpoint (last handled global position). */
  subscriptions: Array<{ name: string; position: number }>;
  /** What an open would cut or remove (a torn tail is not a problem: it was never acknowledged). */
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
  if (!(await fs.exists(`${directory}/log`))) throw new StoreNotFoundError(directory);
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
    cleanShutdown: await fs.exists(`${directory}/CLEAN`),
    locked: owner !== null,
    openBy: owner,
    snapshots: [],
    subscriptions: await readSubscriptions(fs, directory),
    wouldRecover: { tornTail: null, removedFiles: [] },
  };
  try {
    const scan = await scanLog(fs, directory, index, { repair: 'none', readOnly: true, onSegment });
    inspection.wouldRecover = { tornTail: scan.tornTail, removedFiles: scan.removedFiles };
    for (const segment of scan.segments) {
      const handle = await fs.open(`${directory}/log/${segment.name}`);
      const bytes = await handle.size();
      await handle.close();
      inspection.segments.push({ name: segment.name, bytes, firstPosition: segment.base });
      inspection.bytesOnDisk += bytes;
    }
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    inspection.healthy = false;
    inspection.problems.push(error.message);
  }
  await checkSnapshots(fs, directory, index, inspection);
  inspection.events = index.durableCount;
  inspection.streams = [...index.streams.values()].filter((s) => s.version >= 0).length;
  inspection.firstPosition = index.durableCount > 0 ? 0 : null;
  inspection.lastPosition = index.durableCount > 0 ? index.durableCount - 1 : null;
  return inspection;
}

/** Every snapshot must pass its checks and cover no more than the log holds. */
async function checkSnapshots(fs: FileSystem, directory: string, index: StreamIndex, inspection: StoreInspection): Promise<void> {
  for (const name of await listSnapshots(fs, directory)) {
    const bytes = await fs.readFile(`${directory}/${SNAPSHOT_DIR}/${name}`);
    inspection.bytesOnDisk += bytes.length;
    try {
      const contents = decodeSnapshot(bytes, name);
      if (inspection.healthy && contents.position >= index.durableCount) {
        throw new CorruptionError({ file: `${SNAPSHOT_DIR}/${name}`, offset: 0, reason: `covers position ${contents.position}, but the log ends at position ${index.durableCount - 1}` });
      }
      inspection.snapshots.push({ name, bytes: bytes.length, position: contents.position, ok: true });
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      inspection.snapshots.push({ name, bytes: bytes.length, position: null, ok: false });
      inspection.healthy = false;
      inspection.problems.push(error.message);
    }
  }
}

async function readSubscriptions(fs: FileSystem, directory: string): Promise<StoreInspection['subscriptions']> {
  const dir = `${directory}/subscriptions`;
  if (!(await fs.exists(dir))) return [];
  const found: StoreInspection['subscriptions'] = [];
  for (const file of await fs.readdir(dir)) {
    if (!file.endsWith('.json')) continue;
    const { position } = JSON.parse((await fs.readFile(`${dir}/${file}`)).toString('utf8')) as { position: number };
    found.push({ name: file.slice(0, -'.json'.length), position });
  }
  return found;
}
