import { crc32 } from './crc';
import { REUSE_BUFFER_MODE } from 'msgpackr';
import { headerCrcOf } from './check-record';
import { recordArena } from './arena';
import { writeGeneratedId } from './id-pool';
import { payloadCodec, type PackedPayload } from './payload-codec';
import {
  AT_BATCH_BYTES,
  AT_BATCH_START,
  AT_BODY_CRC,
  AT_FLAGS,
  AT_HEADER_CRC,
  AT_ID_BYTES,
  AT_LENGTH,
  AT_POSITION,
  AT_PREV_OFFSET,
  AT_PREV_POSITION,
  AT_RESERVED,
  AT_RESERVED_2,
  AT_STREAM_BYTES,
  AT_TIMESTAMP,
  AT_TYPE_BYTES,
  AT_VERSION,
  FIXED_RECORD_BYTES,
  FLAG_COMMIT,
  FLAG_GENERATED_ID,
  FLAG_METADATA,
  FRAME_HEADER_BYTES,
  GENERATED_ID_BYTES,
  NO_PREVIOUS,
  readU64,
  writeU64,
} from './record-layout';

/** An event to frame: its payload is `packed` when validateEvents encoded it (then `data` and `metadata` are not read), else encoded here. */
export interface EventToFrame extends Partial<PackedPayload> {
  type: string;
  data?: unknown;
  metadata?: unknown;
  id?: string;
}

/** One append framed in memory; `sealAppend` fills in chain links and CRCs once its place in the log is known. */
export interface FramedAppend {
  bytes: Buffer;
  /** Start of each record inside `bytes`. */
  recordOffsets: number[];
}

/** msgpackr's own buffer, as `pack` returns it in REUSE_BUFFER_MODE: the payload is bytes start … end-1. */
type ReusedBuffer = Buffer & { start: number; end: number };

/** One append's timestamp (an f64, the same for each of its records), encoded once. */
const timestampBytes = Buffer.alloc(Float64Array.BYTES_PER_ELEMENT);

// Event types repeat: their UTF-8 bytes are kept (up to a bound) instead of re-encoded per event.
const typeBytesCache = new Map<string, Buffer>();
/** Most event types whose bytes are kept: a store with endless distinct types must not grow the cache without end. */
const TYPE_CACHE_LIMIT = 4096;
/** UTF-8 takes at most 3 bytes per UTF-16 unit of a string. */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** Room set aside for a generated id, in UTF-16 units (18 bytes ≥ GENERATED_ID_BYTES). */
const GENERATED_ID_ROOM_UNITS = 6;

function utf8Of(type: string): Buffer {
  let bytes = typeBytesCache.get(type);
  if (!bytes) {
    bytes = Buffer.from(type, 'utf8');
    if (typeBytesCache.size < TYPE_CACHE_LIMIT) typeBytesCache.set(type, bytes);
  }
  return bytes;
}

/**
 * Frames the events of one append (positions and versions consecutive), body
 * CRCs included; chain links, write fields and header CRCs are left to `sealAppend`. Only the last
 * record carries COMMIT. Throws (from msgpackr) if data cannot be encoded;
 * `maxEventBytes` bounds each record body.
 */
export function frameAppend(
  stream: string,
  events: EventToFrame[],
  firstPosition: number,
  firstVersion: number,
  timestamp: number,
  maxEventBytes: number,
): FramedAppend {
  const streamUtf8 = Buffer.from(stream, 'utf8');
  timestampBytes.writeDoubleLE(timestamp, 0);
  const streamBytes = streamUtf8.length;
  const recordOffsets: number[] = new Array(events.length);
  // `at` counts from the span's base, which moves if the arena fills up while the append grows.
  const span = recordArena.openSpan();
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const typeUtf8 = utf8Of(event.type);
    recordArena.ensureRoom(span, at + FIXED_RECORD_BYTES + streamBytes + typeUtf8.length + MAX_UTF8_BYTES_PER_UNIT * (event.id?.length ?? GENERATED_ID_ROOM_UNITS));
    const start = at;
    recordOffsets[i] = start;
    let flags = i === events.length - 1 ? FLAG_COMMIT : 0;
    at += FIXED_RECORD_BYTES;
    span.bytes.set(streamUtf8, span.base + at);
    at += streamBytes;
    span.bytes.set(typeUtf8, span.base + at);
    at += typeUtf8.length;
    let idBytes: number;
    if (event.id === undefined) {
      writeGeneratedId(span.bytes, span.base + at);
      idBytes = GENERATED_ID_BYTES;
      flags |= FLAG_GENERATED_ID;
    } else {
      idBytes = span.bytes.write(event.id, span.base + at, 'utf8');
    }
    at += idBytes;
    let packed: Buffer;
    let payloadStart: number;
    let payloadEnd: number;
    if (event.packed) {
      packed = event.packed;
      payloadStart = event.payloadStart!;
      payloadEnd = event.payloadEnd!;
      if (event.dataStart !== payloadStart) flags |= FLAG_METADATA;
    } else {
      const hasMetadata = event.metadata !== undefined && event.metadata !== null;
      if (hasMetadata) flags |= FLAG_METADATA;
      // REUSE_BUFFER_MODE: msgpackr hands back its own buffer with the payload's start and end, not a new view per event.
      const reused = payloadCodec.pack(hasMetadata ? [event.data ?? null, event.metadata] : (event.data ?? null), REUSE_BUFFER_MODE) as ReusedBuffer;
      packed = reused;
      payloadStart = reused.start;
      payloadEnd = reused.end;
    }
    const payloadBytes = payloadEnd - payloadStart;
    const bodyLength = at + payloadBytes - start - FRAME_HEADER_BYTES;
    if (bodyLength > maxEventBytes) throw new RangeError(`event ${i} is ${bodyLength} bytes encoded; the limit is ${maxEventBytes} bytes`);
    recordArena.ensureRoom(span, at + payloadBytes);
    const bytes = span.bytes;
    packed.copy(bytes, span.base + at, payloadStart, payloadEnd);
    at += payloadBytes;

    const h = span.base + start;
    bytes.writeUInt32LE(bodyLength, h + AT_LENGTH);
    bytes[h + AT_FLAGS] = flags;
    bytes[h + AT_RESERVED] = 0;
    bytes.writeUInt16LE(streamBytes, h + AT_STREAM_BYTES);
    bytes.writeUInt16LE(typeUtf8.length, h + AT_TYPE_BYTES);
    bytes.writeUInt16LE(idBytes, h + AT_ID_BYTES);
    bytes.writeUInt32LE(firstVersion + i, h + AT_VERSION);
    writeU64(bytes, firstPosition + i, h + AT_POSITION);
    bytes.writeUInt32LE(0, h + AT_RESERVED_2);
    for (let k = 0; k < timestampBytes.length; k++) bytes[h + AT_TIMESTAMP + k] = timestampBytes[k];
    // The body (names and payload) never changes after framing: its CRC is taken here, off the writer's path.
    bytes.writeUInt32LE(crc32(bytes.subarray(h + FIXED_RECORD_BYTES, span.base + at)), h + AT_BODY_CRC);
  }
  return { bytes: recordArena.closeSpan(span, at), recordOffsets };
}

/**
 * Writes what depends on the append's place in the log — each record's link
 * to the previous event of its stream, and the write (batch) it travels in —
 * then each record's header CRC. `baseOffset` is where `bytes` will start in
 * its segment; `batch` is the whole write (start offset and length);
 * `previous` is the stream's last event before this append. Returns the link
 * to give the stream's next append.
 */
export function sealAppend(
  append: FramedAppend,
  baseOffset: number,
  batch: { start: number; bytes: number },
  previous: { position: number; offset: number },
): { position: number; offset: number } {
  const { bytes, recordOffsets } = append;
  let prevPosition = previous.position;
  let prevOffset = previous.offset;
  for (let i = 0; i < recordOffsets.length; i++) {
    const at = recordOffsets[i];
    writeU64(bytes, prevPosition + 1, at + AT_PREV_POSITION);
    bytes.writeUInt32LE(prevPosition === NO_PREVIOUS ? 0 : prevOffset, at + AT_PREV_OFFSET);
    bytes.writeUInt32LE(batch.start, at + AT_BATCH_START);
    bytes.writeUInt32LE(batch.bytes, at + AT_BATCH_BYTES);
    bytes.writeUInt32LE(headerCrcOf(bytes, at), at + AT_HEADER_CRC);
    prevPosition = readU64(bytes, at + AT_POSITION);
    prevOffset = baseOffset + at;
  }
  return { position: prevPosition, offset: prevOffset };
}
