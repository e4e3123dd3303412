import type { BlockBuffers } from './checks-ahead';
import { rememberUncutWrite } from './rejected-writes';
import type { FileHandle, FileSystem, WriteMode } from '../fs/file-system';
import { fsError } from '../fs/file-system';
import { MAX_SEGMENT_OFFSET } from './record';
import { createSegment, segmentName, SEGMENT_HEADER_BYTES } from './segment-file';

export interface Segment {
  base: number;
  name: string;
  /** Bytes that are durable (fsynced, or handed to the OS in 'flush' mode): readers stop here. */
  durableSize: number;
  reader?: FileHandle;
}

/**
 * Owns the segment files of an open store: appends batches to the last one,
 * rolls to a new one between batches, and serves reads of durable bytes.
 */
export class SegmentedLog {
  private writer: FileHandle;
  /** Readers being opened: concurrent first reads of a segment share one open instead of each opening (and leaking) their own. */
  private readonly openingReaders = new Map<Segment, Promise<FileHandle>>();
  private closed = false;

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly segments: Segment[],
    writer: FileHandle,
    private readonly segmentSize: number,
    /** How the last segment is written: 'durable-writes' in 'fsync' durability (see writeBatch). */
    private readonly writeMode: WriteMode = 'write',
  ) {
    this.writer = writer;
  }

  static async openExisting(fs: FileSystem, dir: string, segments: Segment[], segmentSize: number, writeMode: WriteMode): Promise<SegmentedLog> {
    const last = segments[segments.length - 1];
    const writer = await fs.open(`${dir}/${last.name}`, writeMode);
    try {
      // A durable write makes only its own bytes durable (Linux syncs the range written), not what an earlier
      // process left unsynced in this segment — a 'flush' store that crashed, a write killed before its
      // fdatasync. The open found those records and appends build on them: they are synced first.
      if (writer.durableWrites === true) await writer.datasync();
    } catch (error) {
      await writer.close().catch(() => undefined);
      throw error;
    }
    return new SegmentedLog(fs, dir, segments, writer, segmentSize, writeMode);
  }

  get last(): Segment {
    return this.segments[this.segments.length - 1];
  }

  /** True when the next batch should start a new segment. */
  get wantsRoll(): boolean {
    return (this.last.durableSize >= this.segmentSize || this.sealRequested) && this.last.durableSize > SEGMENT_HEADER_BYTES;
  }

  /** Set by a scavenge: the next batch starts a new segment, so that the current one can be scavenged. */
  sealRequested = false;

  /**
   * False when a write of `bytes` would end past the largest offset a record
   * can name (u32): such a batch goes to a new segment.
   */
  fits(bytes: number): boolean {
    return this.last.durableSize === SEGMENT_HEADER_BYTES || this.last.durableSize + bytes <= MAX_SEGMENT_OFFSET;
  }

  /** Starts a new segment whose first event will have `nextPosition`. */
  async roll(nextPosition: number): Promise<void> {
    // The old segment must be complete on disk before the new one exists, so
    // that only the last segment can ever hold a torn tail.
    await this.writer.datasync();
    const handle = await createSegment(this.fs, this.dir, nextPosition, this.writeMode);
    await this.writer.close();
    this.writer = handle;
    this.sealRequested = false;
    this.segments.push({ base: nextPosition, name: segmentName(nextPosition), durableSize: SEGMENT_HEADER_BYTES });
  }

  /**
   * Writes one batch at the end of the last segment; returns the offset it
   * starts at. `sync`: durable before it returns — by the write itself when
   * the segment is open for durable writes (one request to the disk, which
   * starts on its own, instead of a datasync that waits for the main thread
   * to get round to asking for it: measured +8–10 % batched appends), else
   * by a datasync.
   */
  async writeBatch(bytes: Buffer, sync: boolean): Promise<number> {
    const segment = this.last;
    const offset = segment.durableSize;
    try {
      const written = await this.writer.write(bytes, offset);
      if (written !== bytes.length) {
        throw fsError('EIO', `short write: ${written} of ${bytes.length} bytes reached ${segment.name}`);
      }
      if (sync && this.writer.durableWrites !== true) await this.writer.datasync();
    } catch (error) {
      await this.forgetFailedWrite(offset);
      throw error;
    }
    segment.durableSize = offset + bytes.length;
    return offset;
  }

  /**
   * After a failed write or fsync the store fail-stops; the rejected batch's
   * bytes may still sit in the page cache, where a reopen in this process (or
   * any reader of the file) would find them whole and valid — an append that
   * was rejected would come back. So cut the file back to the end of the last
   * acknowledged write and sync that cut. If the cut itself fails, this
   * process remembers where the acknowledged bytes end and its next open cuts
   * there (rejected-writes.ts); a failed sync of the cut changes nothing here.
   *
   * This is not an fsync retry. A retry is unsafe because after a failed
   * fsync the kernel may have dropped the dirty pages and a second fsync could
   * report success for data that never reached the disk. Here nothing is
   * claimed about the failed data: it is removed. The sync only makes the
   * shorter length durable; everything below it was fsynced before this
   * batch started (in 'fsync' mode), and a sync that fails again changes nothing.
   */
  private async forgetFailedWrite(acknowledgedEnd: number): Promise<void> {
    try {
      await this.writer.truncate(acknowledgedEnd);
    } catch {
      // The rejected bytes stay in the file: the next open in this process cuts them (rejected-writes.ts).
      rememberUncutWrite(this.fs, `${this.dir}/${this.last.name}`, acknowledgedEnd);
      return;
    }
    try {
      await this.writer.datasync();
    } catch {
      // The store has already failed; the shorter length is what this process sees.
    }
  }

  async sync(): Promise<void> {
    await this.writer.datasync();
  }

  /** Reads durable bytes of a segment into a fresh buffer (shorter at the durable end). */
  async read(segmentIndex: number, offset: number, length: number): Promise<Buffer> {
    return this.readSegment(this.segments[segmentIndex], offset, length);
  }

  /** Reads durable bytes of this very segment file (a scavenge may have put another in its place since), into `into`'s buffer if given. */
  async readSegment(segment: Segment, offset: number, length: number, into?: BlockBuffers): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, segment.durableSize - offset));
    // A replay's block goes to the check worker (checks-ahead.ts): in shared memory, it is not copied there.
    const buffer = into ? into.take(wanted) : Buffer.allocUnsafe(wanted);
    const reader = segment.reader ?? (await this.openReader(segment));
    this.readsUnderWay.set(reader, (this.readsUnderWay.get(reader) ?? 0) + 1);
    let got = 0;
    try {
      while (got < wanted) {
        const n = await reader.read(buffer, got, wanted - got, offset + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      this.readEnded(reader);
    }
    return got === wanted ? buffer : buffer.subarray(0, got);
  }

  /** Reads under way per reader: a reader a scavenge retired is closed when its last one ends. */
  private readonly readsUnderWay = new Map<FileHandle, number>();

  private readEnded(reader: FileHandle): void {
    const left = this.readsUnderWay.get(reader)! - 1;
    if (left > 0) {
      this.readsUnderWay.set(reader, left);
      return;
    }
    this.readsUnderWay.delete(reader);
    if (this.retiredReaders.delete(reader)) void reader.close().catch(() => undefined);
  }

  private openReader(segment: Segment): Promise<FileHandle> {
    if (this.closed) return Promise.reject(fsError('EBADF', `the log is closed: ${segment.name} cannot be read`));
    // A segment a scavenge replaced is read only through the reader it had: its name now names the new file.
    if (!this.segments.includes(segment)) return Promise.reject(fsError('ESTALE', `${segment.name} was replaced by a scavenge while it was being read`));
    let opening = this.openingReaders.get(segment);
    if (!opening) {
      opening = this.fs.open(`${this.dir}/${segment.name}`).then((handle) => (segment.reader = handle));
      const forget = () => this.openingReaders.delete(segment);
      opening.then(forget, forget);
      this.openingReaders.set(segment, opening);
    }
    return opening;
  }

  /**
   * A scavenge renamed a rewritten file over sealed segment `index`: readers
   * use it from now on. Reads already under way finish on the old file,
   * whose handle is closed when the last of them ends — only then does the
   * old file's disk space come back (a reader held open keeps it).
   */
  replaceSegment(index: number, rewritten: Segment): void {
    const old = this.segments[index];
    this.segments[index] = rewritten;
    const retire = (reader: FileHandle) => {
      if (this.readsUnderWay.has(reader)) this.retiredReaders.add(reader);
      else void reader.close().catch(() => undefined);
    };
    if (old.reader) retire(old.reader);
    else this.openingReaders.get(old)?.then(retire, () => undefined);
    old.reader = undefined;
  }

  private readonly retiredReaders = new Set<FileHandle>();

  async close(): Promise<void> {
    this.closed = true;
    for (const reader of this.retiredReaders) await reader.close().catch(() => undefined);
    this.retiredReaders.clear();
    // A reader still being opened is closed below with the others.
    await Promise.allSettled(this.openingReaders.values());
    await this.writer.close().catch(() => undefined);
    for (const segment of this.segments) {
      await segment.reader?.close().catch(() => undefined);
      segment.reader = undefined;
    }
  }
}
