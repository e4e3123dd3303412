import { CorruptionError } from '../errors';
import type { StreamIndex } from '../state/stream-index';
import { checkFrame, decodeEvent, FRAME_HEADER_BYTES, type RecordedEvent } from './record';
import type { SegmentedLog } from './segmented-log';

const READ_AHEAD_BYTES = 1024 * 1024;
const RANDOM_READ_BYTES = 16 * 1024;

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

  /** Events in global order from `from`, up to the durable end as it is when reached. */
  async *forward(from: number, limit: number): AsyncGenerator<RecordedEvent> {
    let position = from;
    let yielded = 0;
    let wanted = READ_AHEAD_BYTES;
    while (yielded < limit && position < this.index.durableCount) {
      this.assertOpen();
      const segmentIndex = this.index.segmentOf(position);
      const start = this.index.offsets[position];
      const chunk = await this.log.read(segmentIndex, start, wanted);
      let rel = 0;
      wanted = READ_AHEAD_BYTES;
      const segmentEnd = this.log.segments[segmentIndex].durableSize;
      while (yielded < limit && position < this.index.durableCount && rel < chunk.length) {
        const check = checkFrame(chunk, rel, segmentEnd - (start + rel));
        if (check.kind === 'incomplete') {
          // The chunk ends inside this record: read again from its start.
          if (rel === 0) wanted = check.needed;
          break;
        }
        yield this.decodeChecked(chunk, rel, check, segmentIndex, start + rel, position);
        position++;
        yielded++;
        rel += FRAME_HEADER_BYTES + (check as { length: number }).length;
      }
    }
  }

  /** One event by global position. */
  async at(position: number, cache: { segment: number; start: number; bytes: Buffer } | null): Promise<{
    event: RecordedEvent;
    cache: { segment: number; start: number; bytes: Buffer };
  }> {
    this.assertOpen();
    const segmentIndex = this.index.segmentOf(position);
    const offset = this.index.offsets[position];
    let block = cache;
    if (!block || block.segment !== segmentIndex || offset < block.start || offset + FRAME_HEADER_BYTES > block.start + block.bytes.length) {
      block = { segment: segmentIndex, start: offset, bytes: await this.log.read(segmentIndex, offset, RANDOM_READ_BYTES) };
    }
    const bytesLeft = this.log.segments[segmentIndex].durableSize - offset;
    let rel = offset - block.start;
    let check = checkFrame(block.bytes, rel, bytesLeft);
    if (check.kind === 'incomplete') {
      block = { segment: segmentIndex, start: offset, bytes: await this.log.read(segmentIndex, offset, Math.max(check.needed, RANDOM_READ_BYTES)) };
      rel = 0;
      check = checkFrame(block.bytes, 0, bytesLeft);
    }
    return { event: this.decodeChecked(block.bytes, rel, check, segmentIndex, offset, position), cache: block };
  }

  private decodeChecked(
    chunk: Buffer,
    rel: number,
    check: ReturnType<typeof checkFrame>,
    segmentIndex: number,
    fileOffset: number,
    position: number,
  ): RecordedEvent {
    const file = `log/${this.log.segments[segmentIndex].name}`;
    if (check.kind !== 'ok') {
      const details = check.kind === 'bad' ? check : { reason: 'record is cut short', expectedCrc: undefined, actualCrc: undefined };
      throw new CorruptionError({ file, offset: fileOffset, ...details });
    }
    const event = decodeEvent(chunk, rel, check.length);
    if (event.position !== position) {
      throw new CorruptionError({ file, offset: fileOffset, reason: `found position ${event.position} where ${position} was expected` });
    }
    return event;
  }
}
