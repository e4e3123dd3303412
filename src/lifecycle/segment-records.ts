import { CorruptionError } from '../errors';
import { checkFrame, FRAME_HEADER_BYTES, positionAt } from '../log/record';
import { SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import { logFile } from '../store-layout';

const CHUNK_BYTES = 1024 * 1024;

/** One checked record of a segment, as it lies on disk. */
export interface RawRecord {
  /** Byte offset in its segment. */
  offset: number;
  position: number;
  /** The whole record (header CRC, length, fixed header, names, payload): a view valid until the next record is asked for. */
  bytes: Buffer;
}

/**
 * Every record of one segment in file order, each checked (both CRCs).
 * `read(offset, length)` reads the segment's bytes (fewer at its end).
 */
export async function* segmentRecords(segment: Segment, read: (offset: number, length: number) => Promise<Buffer>, from = SEGMENT_HEADER_BYTES): AsyncGenerator<RawRecord> {
  const end = segment.durableSize;
  let offset = from;
  let wanted = CHUNK_BYTES;
  while (offset < end) {
    const chunk = await read(offset, Math.min(wanted, end - offset));
    let rel = 0;
    wanted = CHUNK_BYTES;
    while (rel < chunk.length) {
      const check = checkFrame(chunk, rel, end - (offset + rel), offset + rel);
      if (check.kind === 'incomplete') {
        if (rel === 0) wanted = Math.max(check.needed, CHUNK_BYTES);
        break;
      }
      if (check.kind === 'bad') throw new CorruptionError({ file: logFile(segment.name), offset: offset + rel, reason: check.reason, expectedCrc: check.expectedCrc, actualCrc: check.actualCrc });
      const size = FRAME_HEADER_BYTES + check.length;
      yield { offset: offset + rel, position: positionAt(chunk, rel), bytes: chunk.subarray(rel, rel + size) };
      rel += size;
    }
    if (rel === 0 && chunk.length === 0) throw new CorruptionError({ file: logFile(segment.name), offset, reason: 'segment ends before its durable size' });
    offset += rel;
  }
}
