import { asStorageError, CorruptionError } from '../errors';
import type { StreamIndex } from './stream-index';
import { checkFrame, checkWork, wholeRecordLength } from './check-record';
import { abandon, BlockBuffers, checkAhead, CHECKED_END } from './checks-ahead';
import { decodeEvent, decodeHeader, type RecordedEvent, type RecordHeader } from './decode-record';
import { FIXED_RECORD_BYTES, FRAME_HEADER_BYTES, lengthAt, MIN_BODY_BYTES, positionAt } from './record-layout';
import { SEGMENT_HEADER_BYTES } from './segment-file';
import type { Segment, SegmentedLog } from './segmented-log';
import { logFile } from '../store-layout';

const READ_AHEAD_BYTES = 1024 * 1024;
const RANDOM_READ_BYTES = 16 * 1024;
/**
 * A block read backwards (a stream's chain) ends this far past the record it
 * is read for, so that record is in it whole unless it is larger; the rest of
 * the block holds the records before it, where the chain goes next.
 */
const BACKWARD_BLOCK_PAST_RECORD = 4096;
/**
 * Most events in one page of `forwardPages`. Small enough that a page is
 * consumed before the young generation fills up (a page that outlives a
 * scavenge is copied, then promoted: 5,000-event pages made replay 2× slower
 * than one event at a time), large enough that the promise per page is noise.
 */
const PAGE_EVENTS = 256;

/** The last block read at random, reused while the next record falls inside it. */
export interface BlockCache {
  segment: number;
  start: number;
  bytes: Buffer;
}

/**
 * Reads durable events back, checking every record's CRC and position.
 * Only bytes below each segment's durable size are ever read.
 */
export class LogReader {
  constructor(
    private readonly log: SegmentedLog,
    private readonly index: StreamIndex,
    private readonly assertOpen: () => void,
  ) {}

  /**
   * Events in global order from `from`, up to the durable end as it is when
   * reached. In a segment a scavenge rewrote, positions have holes (removed
   * events) and the segment is read from its start; one rewritten while it
   * is being read is read again from its start, past what was already returned.
   */
  async *forward(from: number, limit: number): AsyncGenerator<RecordedEvent> {
    for await (const page of this.forwardPages(from, limit)) yield* page;
  }

  /**
   * The same events as `forward`, a page at a time: each page holds the
   * records of one block read (about READ_AHEAD_BYTES), checked and decoded,
   * so a replay costs one promise per page instead of one per event. Pages
   * are never empty.
   */
  async *forwardPages(from: number, limit: number): AsyncGenerator<RecordedEvent[]> {
    if (from >= this.index.durableCount || limit <= 0) return;
    let { segment, position, offset } = this.index.seek(from);
    let source = this.log.segments[segment];
    let yielded = 0;
    let wanted = READ_AHEAD_BYTES;
    const blocks = new BlockBuffers();
    while (yielded < limit && position < this.index.durableCount) {
      this.assertOpen();
      if (this.log.segments[segment] !== source) {
        source = this.log.segments[segment];
        offset = SEGMENT_HEADER_BYTES;
      }
      const segmentEnd = source.durableSize;
      if (offset >= segmentEnd) {
        const left = source;
        segment++;
        offset = SEGMENT_HEADER_BYTES;
        source = this.log.segments[segment];
        // Past the last segment: a read-only store whose last segment is a scavenged one (a repair cut the log
        // inside it; the next writable open starts a new segment after it) has no more events.
        if (!source) return;
        if (position < source.base) {
          // Only a scavenge removes the positions after a segment's last event, up to the next segment. A segment
          // never scavenged that ends early was cut short: acknowledged events are missing, never skipped in silence.
          if (!this.index.scavenged.has(left.base)) {
            this.fail(segment - 1, segmentEnd, `the segment ends before position ${position}, but the next segment starts at position ${source.base}: events ${position} to ${source.base - 1} are missing`);
          }
          position = source.base;
        }
        continue;
      }
      const scavenged = this.index.scavenged.has(source.base);
      const chunk = await this.read(segment, offset, wanted, blocks);
      let page: RecordedEvent[] = [];
      let rel = 0;
      wanted = READ_AHEAD_BYTES;
      // The durable end as it is now: a batch published while this page is decoded waits for the next read.
      const durableCount = this.index.durableCount;
      // The records up to checkedEnd passed every check of wholeRecordLength in the check worker; the others are checked here.
      const progress = checkAhead(chunk, segmentEnd, offset);
      let checkedEnd = 0;
      try {
        while (yielded < limit && position < durableCount && rel < chunk.length) {
          let length: number;
          if (progress !== null && rel >= checkedEnd) checkedEnd = Atomics.load(progress, CHECKED_END);
          if (rel < checkedEnd) {
            length = lengthAt(chunk, rel);
            checkWork.bodyBytes += length - MIN_BODY_BYTES;
          } else {
            length = wholeRecordLength(chunk, rel, segmentEnd - (offset + rel), offset + rel);
          }
          if (length < 0) {
            const check = checkFrame(chunk, rel, segmentEnd - (offset + rel), offset + rel);
            if (check.kind === 'incomplete') {
              // The chunk ends inside this record: read again from its start.
              if (rel === 0) wanted = Math.max(check.needed, READ_AHEAD_BYTES);
              break;
            }
            this.failUnlessOk(check, segment, offset + rel);
            length = (check as { length: number }).length;
          }
          const at = positionAt(chunk, rel);
          if (scavenged ? at >= position : at === position) {
            if (at >= from) {
              page.push(this.decodeAt(chunk, rel, length, segment, offset + rel, at));
              yielded++;
              if (page.length === PAGE_EVENTS) {
                yield page;
                page = [];
              }
            }
            position = at + 1;
          } else if (!scavenged) {
            this.fail(segment, offset + rel, `found position ${at} where ${position} was expected`);
          }
          rel += FRAME_HEADER_BYTES + length;
        }
      } finally {
        abandon(progress);
      }
      offset += rel;
      if (page.length > 0) yield page;
    }
  }

  /** The fixed fields of the record of `position` at `offset`. */
  async headerAt(position: number, offset: number, cache: BlockCache | null, ahead: boolean): Promise<{ header: RecordHeader; cache: BlockCache; bytes: number }> {
    const found = await this.recordAt(position, offset, cache, ahead);
    const header = decodeHeader(found.cache.bytes, found.rel);
    if (header.position !== position) this.fail(found.segment, offset, `found position ${header.position} where ${position} was expected`);
    return { header, cache: found.cache, bytes: FRAME_HEADER_BYTES + found.length };
  }

  /** The event of `position` at `offset`. */
  async eventAt(position: number, offset: number, cache: BlockCache | null, ahead: boolean): Promise<{ event: RecordedEvent; cache: BlockCache }> {
    const found = await this.recordAt(position, offset, cache, ahead);
    return { event: this.decodeAt(found.cache.bytes, found.rel, found.length, found.segment, offset, position), cache: found.cache };
  }

  /** One read of the log; a failing disk surfaces as StorageError (per block read, not per event). */
  private async read(segment: number, offset: number, length: number, into?: BlockBuffers): Promise<Buffer> {
    return this.readFile(this.log.segments[segment], segment, offset, length, into);
  }

  /** `read` of one segment file (a scavenge may have put another in its place since). */
  private async readFile(file: Segment, segment: number, offset: number, length: number, into?: BlockBuffers): Promise<Buffer> {
    try {
      return await this.log.readSegment(file, offset, length, into);
    } catch (error) {
      throw asStorageError(error, `Could not read the log (segment ${segment}, offset ${offset})`);
    }
  }

  /**
   * Finds a checked record by place. `ahead`: the next reads go forward, so
   * a fresh block starts at the record; otherwise it ends just after it (a
   * stream's chain is followed backwards).
   */
  private async recordAt(position: number, offset: number, cache: BlockCache | null, ahead: boolean) {
    this.assertOpen();
    const segment = this.index.segmentOf(position);
    // Every read below is of this very file: a scavenge that replaces the segment meanwhile fails them (the caller looks again), never mixes two files.
    const file = this.log.segments[segment];
    const segmentEnd = file.durableSize;
    if (offset + FIXED_RECORD_BYTES > segmentEnd) this.fail(segment, offset, `no record of position ${position} can start at byte offset ${offset}: the segment's records end at byte offset ${segmentEnd}`);
    let block = cache;
    if (!block || block.segment !== segment || offset < block.start || offset + FIXED_RECORD_BYTES > block.start + block.bytes.length) {
      const start = ahead ? offset : Math.max(SEGMENT_HEADER_BYTES, offset + BACKWARD_BLOCK_PAST_RECORD - RANDOM_READ_BYTES);
      block = { segment, start, bytes: await this.readFile(file, segment, start, RANDOM_READ_BYTES) };
    }
    let rel = offset - block.start;
    let check = checkFrame(block.bytes, rel, segmentEnd - offset, offset);
    // A header first tells how long the record is; a record up to 16 MiB may then need a larger read.
    for (let reads = 0; check.kind === 'incomplete' && reads < 2; reads++) {
      block = { segment, start: offset, bytes: await this.readFile(file, segment, offset, Math.max(check.needed, RANDOM_READ_BYTES)) };
      rel = 0;
      check = checkFrame(block.bytes, 0, segmentEnd - offset, offset);
    }
    this.failUnlessOk(check, segment, offset);
    return { cache: block, rel, length: (check as { length: number }).length, segment };
  }

  private decodeAt(chunk: Buffer, rel: number, length: number, segment: number, fileOffset: number, position: number): RecordedEvent {
    let event: RecordedEvent;
    try {
      event = decodeEvent(chunk, rel, length);
    } catch (error) {
      // Both CRCs passed, so these are the bytes a writer wrote: not msgpack as eventfold writes it (a faulty writer,
      // another implementation). Named like any other damage rather than thrown as the decoder's own error.
      this.fail(segment, fileOffset, `the event's data is not msgpack as eventfold writes it (${(error as Error).message})`);
    }
    if (event.position !== position) this.fail(segment, fileOffset, `found position ${event.position} where ${position} was expected`);
    return event;
  }

  private failUnlessOk(check: ReturnType<typeof checkFrame>, segment: number, offset: number): void {
    if (check.kind === 'ok') return;
    const details = check.kind === 'bad' ? check : { reason: 'record is cut short', expectedCrc: undefined, actualCrc: undefined };
    throw new CorruptionError({ file: logFile(this.log.segments[segment].name), offset, ...details });
  }

  fail(segment: number, offset: number, reason: string): never {
    throw new CorruptionError({ file: logFile(this.log.segments[segment].name), offset, reason });
  }
}
