import type { FramedAppend } from './encode-record';
import { formatUuid } from './id-pool';
import { decodePayload } from './decode-payload';
import {
  AT_BATCH_BYTES,
  AT_BATCH_START,
  AT_FLAGS,
  AT_ID_BYTES,
  AT_POSITION,
  AT_PREV_OFFSET,
  AT_PREV_POSITION,
  AT_STREAM_BYTES,
  AT_TIMESTAMP,
  AT_TYPE_BYTES,
  AT_VERSION,
  FIXED_RECORD_BYTES,
  FLAG_GENERATED_ID,
  FLAG_METADATA,
  FRAME_HEADER_BYTES,
  lengthAt,
  readU16,
  readU32,
  readU64,
} from './record-layout';

// Decoding checked records (check-record.ts first): the header's fields
// without msgpack, and whole events as readers see them.

export interface RecordedEvent<D = unknown, M = unknown> {
  position: number;
  stream: string;
  version: number;
  type: string;
  data: D;
  metadata: M | null;
  id: string;
  timestamp: number;
}

/** The fixed fields of a checked record, without decoding its payload. */
export interface RecordHeader {
  position: number;
  version: number;
  /** Position of the previous event of the same stream, NO_PREVIOUS for its first. */
  prevPosition: number;
  /** Byte offset of that event inside its segment. */
  prevOffset: number;
  stream: string;
  /** Where the write (group-commit batch) that carried this record starts in its segment, and its length. */
  batchStart: number;
  batchBytes: number;
}

export function decodeHeader(chunk: Buffer, offset: number): RecordHeader {
  const streamStart = offset + FIXED_RECORD_BYTES;
  return {
    position: readU64(chunk, offset + AT_POSITION),
    version: readU32(chunk, offset + AT_VERSION),
    prevPosition: readU64(chunk, offset + AT_PREV_POSITION) - 1,
    prevOffset: readU32(chunk, offset + AT_PREV_OFFSET),
    stream: headerStream.read(chunk, streamStart, streamStart + readU16(chunk, offset + AT_STREAM_BYTES)),
    batchStart: readU32(chunk, offset + AT_BATCH_START),
    batchBytes: readU32(chunk, offset + AT_BATCH_BYTES),
  };
}

/**
 * The last two texts decoded for one field, with their UTF-8 bytes: records
 * read in a row usually repeat their stream (an append's events) and go
 * back and forth between a few types, and a byte comparison is cheaper than
 * decoding (and allocating) the same string again. The same string object
 * comes back, so a Map lookup by it finds its hash already computed.
 */
class RecentText {
  private readonly first = new TextSlot();
  private readonly second = new TextSlot();
  /** True when the next new text replaces `first` (the one used less recently). */
  private firstIsOlder = true;

  read(chunk: Buffer, start: number, end: number): string {
    if (this.first.holds(chunk, start, end)) {
      this.firstIsOlder = false;
      return this.first.text;
    }
    if (this.second.holds(chunk, start, end)) {
      this.firstIsOlder = true;
      return this.second.text;
    }
    const slot = this.firstIsOlder ? this.first : this.second;
    this.firstIsOlder = !this.firstIsOlder;
    return slot.take(chunk, start, end);
  }
}

/** One text and its bytes. */
class TextSlot {
  private bytes = new Uint8Array(64);
  private length = -1;
  text = '';

  holds(chunk: Buffer, start: number, end: number): boolean {
    const length = end - start;
    if (length !== this.length) return false;
    const bytes = this.bytes;
    let k = 0;
    while (k < length && chunk[start + k] === bytes[k]) k++;
    return k === length;
  }

  take(chunk: Buffer, start: number, end: number): string {
    const length = end - start;
    this.text = chunk.toString('utf8', start, end);
    if (length > this.bytes.length) this.bytes = new Uint8Array(length);
    // A loop rather than Buffer#copy: names are short, and the call into copy costs more than the bytes.
    for (let k = 0; k < length; k++) this.bytes[k] = chunk[start + k];
    this.length = length;
    return this.text;
  }
}

/** Separate for headers (a scan) and events (a read), which may interleave. */
const headerStream = new RecentText();
const lastStream = new RecentText();
const lastType = new RecentText();
/** Decodes a checked record's event. */
export function decodeEvent(chunk: Buffer, offset: number, length: number): RecordedEvent {
  const flags = chunk[offset + AT_FLAGS];
  const streamEnd = offset + FIXED_RECORD_BYTES + readU16(chunk, offset + AT_STREAM_BYTES);
  const typeEnd = streamEnd + readU16(chunk, offset + AT_TYPE_BYTES);
  const idEnd = typeEnd + readU16(chunk, offset + AT_ID_BYTES);
  const payloadEnd = offset + FRAME_HEADER_BYTES + length;
  const payload = decodePayload(chunk, idEnd, payloadEnd);
  const hasMetadata = (flags & FLAG_METADATA) !== 0;
  if (hasMetadata && !(Array.isArray(payload) && payload.length === 2)) throw new Error('a record with metadata holds [data, metadata]');
  return {
    position: readU64(chunk, offset + AT_POSITION),
    stream: lastStream.read(chunk, offset + FIXED_RECORD_BYTES, streamEnd),
    version: readU32(chunk, offset + AT_VERSION),
    type: lastType.read(chunk, streamEnd, typeEnd),
    data: hasMetadata ? (payload as unknown[])[0] : payload,
    metadata: hasMetadata ? (payload as unknown[])[1] : null,
    id: flags & FLAG_GENERATED_ID ? formatUuid(chunk, typeEnd) : chunk.toString('utf8', typeEnd, idEnd),
    timestamp: chunk.readDoubleLE(offset + AT_TIMESTAMP),
  };
}

/**
 * The events of a framed append as readers will see them, for projections to
 * fold before it is written: decoded from the frame, so a projection never
 * holds (or freezes) the caller's own objects.
 */
export function decodeAppend(append: FramedAppend): RecordedEvent[] {
  return append.recordOffsets.map((at) => decodeEvent(append.bytes, at, lengthAt(append.bytes, at)));
}
