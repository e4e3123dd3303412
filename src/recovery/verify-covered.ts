import { CorruptionError, EventfoldError } from '../errors';
import { fsError, type FileHandle, type FileLock, type FileSystem } from '../fs/file-system';
import { parseSegmentName } from '../log/segment-file';
import { snapshotRemoved } from '../snapshot/snapshots';
import { snapshotName } from '../snapshot/snapshot-file';
import { snapshotHeadsProblem, type SnapshotHeads } from '../snapshot/snapshot-heads';
import { StreamIndex } from '../log/stream-index';
import { scanLog } from './scan-log';
import { LOG_DIR, logDirOf } from '../store-layout';

/**
 * The part of the log a snapshot lets `open` skip: up to the snapshot's log
 * end, with what the snapshot says of it (`snapshot` names its file,
 * `position` is its last position; the stream heads are the very columns the
 * open's index was seeded from, never written to).
 */
export interface CoveredLog extends SnapshotHeads {
  /** Where the log after it starts. */
  segmentBase: number;
  offset: number;
}

/** Thrown inside the check when the store closes first. */
class Stopped extends EventfoldError {}

/**
 * verifyCoveredLog for a store open beside a writer (read-only): when the
 * check finds a problem and the snapshot is gone since, a scavenge may have
 * rewritten the covered segments, so that the snapshot's log end no longer
 * names a record boundary (it removes every snapshot before it puts its first
 * rewritten segment in place). The covered segments are then checked again
 * as they are now, whole, and must still reach the snapshot's last position.
 */
export async function verifyCoveredLogBesideWriter(fs: FileSystem, dir: string, covered: CoveredLog, readOnly: boolean, shouldStop: () => boolean = () => false): Promise<CorruptionError | null> {
  const problem = await verifyCoveredLog(fs, dir, covered, shouldStop);
  if (!problem || !readOnly || !(await snapshotRemoved(fs, dir, snapshotName(covered.position)))) return problem;
  return verifyCoveredLog(fs, dir, covered, shouldStop, { endRewritten: true });
}

/**
 * The check of the part of the log a snapshot lets `open` skip: every
 * segment before the snapshot's log end, read from its header exactly as a
 * full open reads it (every CRC, position, stream version and chain link,
 * from position 0), up to that log end, which must close a COMMIT record.
 * Then every stream head, the name table and the sparse offsets the snapshot
 * brought must be the ones that scan rebuilt (snapshot/snapshot-heads.ts): a
 * snapshot rewritten with its CRC recomputed must not hide events either.
 * Read-only: it runs on a view of the directory that shows the log only up to
 * the snapshot's log end and refuses every write.
 *
 * Resolves with null when the covered log is intact, or the CorruptionError
 * a full open would have raised. `shouldStop` is polled between reads: when
 * it turns true the check gives up (rejects with an EventfoldError).
 * `endRewritten`: the segment of the snapshot's log end is read whole (see
 * verifyCoveredLogBesideWriter), and the log must reach the snapshot's last
 * position rather than end exactly there; the heads are not compared then
 * (the snapshot is gone, and the segments it described were rewritten).
 */
export async function verifyCoveredLog(fs: FileSystem, dir: string, covered: CoveredLog, shouldStop: () => boolean = () => false, { endRewritten = false } = {}): Promise<CorruptionError | null> {
  const index = new StreamIndex();
  try {
    const view = new CoveredView(fs, logDirOf(dir), endRewritten ? { ...covered, offset: Infinity } : covered, shouldStop);
    const scan = await scanLog(view, dir, index, { repair: 'none', readOnly: true });
    if (endRewritten && index.durableCount > covered.position) return null;
    if (scan.tornTail) {
      return new CorruptionError({
        file: scan.tornTail.file,
        offset: scan.tornTail.offset,
        reason: `the log that ${covered.snapshot} covers ends in ${scan.tornTail.bytesTruncated} bytes that are not a whole committed record`,
      });
    }
    if (index.durableCount !== covered.position + 1) {
      return new CorruptionError({
        file: LOG_DIR,
        offset: 0,
        reason: `${covered.snapshot} covers positions up to ${covered.position}, but the log up to its end holds positions up to ${index.durableCount - 1}`,
      });
    }
    if (endRewritten) return null;
    const scanned = { heads: index.streams, sparseOffsets: index.sparseOffsets, inScavenged: (position: number) => index.inScavengedSegment(position) };
    return await snapshotHeadsProblem(covered, scanned, async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (shouldStop()) throw new Stopped('stopped');
    });
  } catch (error) {
    if (error instanceof CorruptionError) return error;
    if (error instanceof Stopped) throw new EventfoldError('the check of the covered log was stopped by close()');
    throw error;
  }
}

/** The store directory as the snapshot saw it: segments up to its log end, nothing after, nothing writable. */
class CoveredView implements FileSystem {
  constructor(
    private readonly fs: FileSystem,
    private readonly logDir: string,
    private readonly covered: CoveredLog,
    private readonly shouldStop: () => boolean,
  ) {}

  async readdir(dir: string): Promise<string[]> {
    const names = await this.fs.readdir(dir);
    if (dir !== this.logDir) return names;
    return names.filter((name) => {
      const base = parseSegmentName(name);
      return base !== undefined && base <= this.covered.segmentBase;
    });
  }

  exists(path: string): Promise<boolean> {
    return this.fs.exists(path);
  }

  async open(path: string): Promise<FileHandle> {
    const handle = await this.fs.open(path);
    const name = path.slice(path.lastIndexOf('/') + 1);
    const limit = parseSegmentName(name) === this.covered.segmentBase ? this.covered.offset : Infinity;
    const shouldStop = this.shouldStop;
    return {
      async read(buffer, offset, length, position) {
        if (shouldStop()) throw new Stopped('stopped');
        return handle.read(buffer, offset, Math.max(0, Math.min(length, limit - position)), position);
      },
      async size() {
        return Math.min(limit, await handle.size());
      },
      close: () => handle.close(),
      write: () => Promise.reject(fsError('EROFS', 'the covered-log check never writes')),
      datasync: () => Promise.reject(fsError('EROFS', 'the covered-log check never writes')),
      truncate: () => Promise.reject(fsError('EROFS', 'the covered-log check never writes')),
    };
  }

  readFile(path: string): Promise<Buffer> {
    return this.fs.readFile(path);
  }

  tryLock(): Promise<FileLock | null> {
    return Promise.reject(fsError('EROFS', 'the covered-log check takes no lock'));
  }
  isLocked(path: string): Promise<boolean> {
    return this.fs.isLocked(path);
  }

  mkdirp(): Promise<void> {
    return Promise.reject(fsError('EROFS', 'the covered-log check never writes'));
  }
  create(): Promise<FileHandle> {
    return Promise.reject(fsError('EROFS', 'the covered-log check never writes'));
  }
  rename(): Promise<void> {
    return Promise.reject(fsError('EROFS', 'the covered-log check never writes'));
  }
  unlink(): Promise<void> {
    return Promise.reject(fsError('EROFS', 'the covered-log check never writes'));
  }
  syncDir(): Promise<void> {
    return Promise.reject(fsError('EROFS', 'the covered-log check never writes'));
  }
}
