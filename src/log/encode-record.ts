import { crc32Range } from './crc';
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
  writeU32,
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
export class FramedAppend {
  constructor(
    readonly bytes: Buffer,
    /** Start of each record inside `bytes`. */
    readonly recordOffsets: readonly number[],
  ) {}
}

/**
 * The record offsets of a one-event append, shared: its record starts its
 * bytes. An array per append was, for single appends after batched ones,
 * allocated straight in the old generation by V8 (its allocation site was
 * pretenured: a batch's offsets live until it is durable) — 30 bytes of
 * old-space garbage per append, and a full collection every second at
 * 50,000 appends/s.
 */
const ONE_RECORD: readonly number[] = Object.freeze([0]);

function offsetsFor(events: number): number[] {
  return events === 1 ? (ONE_RECORD as number[]) : new Array<number>(events);
}

/** msgpackr's own buffer, as `pack` returns it in REUSE_BUFFER_MODE: the payload is bytes start … end-1. */
type ReusedBuffer = Buffer & { start: number; end: number };

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
 * The start of a record as every record of an append of one type begins:
 * the fixed header with the fields they share (names' lengths, timestamp,
 * zeros where the framing and sealing write the rest), then the stream name
 * and the type. Copied whole per record, then the record's own fields are
 * written over it.
 */
class RecordPrefix {
  // Zeros but for the fields written below: nothing else is ever written here.
  private bytes = Buffer.alloc(FIXED_RECORD_BYTES + 512);
  /** The prefix as one view (its length: header, stream, type). */
  view: Buffer = this.bytes.subarray(0, 0);
  type: string | undefined;
  private stream: string | undefined;
  private streamBytes = 0;

  /** Starts an append: its stream (kept from the previous append when it is the same) and timestamp; the type is set by `forType`. */
  reset(stream: string, timestamp: number): void {
    if (stream !== this.stream) {
      const length = Buffer.byteLength(stream, 'utf8');
      const needed = FIXED_RECORD_BYTES + length + 1024;
      if (this.bytes.length < needed) this.bytes = Buffer.alloc(needed);
      this.bytes.writeUInt16LE(length, AT_STREAM_BYTES);
      this.bytes.write(stream, FIXED_RECORD_BYTES, 'utf8');
      this.stream = stream;
      this.streamBytes = length;
      this.type = undefined;
    }
    // In the view too, when the type stays.
    this.bytes.writeDoubleLE(timestamp, AT_TIMESTAMP);
  }

  forType(type: string): void {
    const typeUtf8 = utf8Of(type);
    const end = FIXED_RECORD_BYTES + this.streamBytes + typeUtf8.length;
    if (this.bytes.length < end) {
      const grown = Buffer.alloc(end * 2);
      this.bytes.copy(grown, 0, 0, FIXED_RECORD_BYTES + this.streamBytes);
      this.bytes = grown;
    }
    this.bytes.writeUInt16LE(typeUtf8.length, AT_TYPE_BYTES);
    typeUtf8.copy(this.bytes, FIXED_RECORD_BYTES + this.streamBytes);
    this.view = this.bytes.subarray(0, end);
    this.type = type;
  }
}

const prefix = new RecordPrefix();

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
  prefix.reset(stream, timestamp);
  const inPlace = frameInPlace(events, firstPosition, firstVersion, maxEventBytes);
  if (inPlace) return inPlace;
  const recordOffsets = offsetsFor(events.length);
  // `at` counts from the span's base, which moves if the arena fills up while the append grows.
  const span = recordArena.openSpan();
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event.type !== prefix.type) prefix.forType(event.type);
    const head = prefix.view;
    recordArena.ensureRoom(span, at + head.length + MAX_UTF8_BYTES_PER_UNIT * (event.id?.length ?? GENERATED_ID_ROOM_UNITS));
    const start = at;
    if (recordOffsets !== ONE_RECORD) recordOffsets[i] = start;
    let flags = i === events.length - 1 ? FLAG_COMMIT : 0;
    span.bytes.set(head, span.base + at);
    at += head.length;
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

    writeOwnFields(bytes, span.base + start, span.base + at, bodyLength, flags, idBytes, firstVersion + i, firstPosition + i);
  }
  return new FramedAppend(recordArena.closeSpan(span, at), recordOffsets);
}

/** A record's own header fields over its prefix (which wrote the shared ones, and zeros for what sealAppend writes), then its body CRC. */
function writeOwnFields(bytes: Buffer, h: number, end: number, bodyLength: number, flags: number, idBytes: number, version: number, position: number): void {
  writeU32(bytes, bodyLength, h + AT_LENGTH);
  bytes[h + AT_FLAGS] = flags;
  bytes[h + AT_ID_BYTES] = idBytes;
  bytes[h + AT_ID_BYTES + 1] = idBytes >>> 8;
  writeU32(bytes, version, h + AT_VERSION);
  writeU64(bytes, position, h + AT_POSITION);
  // The body (names and payload) never changes after framing: its CRC is taken here, off the writer's path.
  writeU32(bytes, crc32Range(bytes, h + FIXED_RECORD_BYTES, end), h + AT_BODY_CRC);
}

/**
 * The bytes before each event's payload that a log asks validateEvents to
 * leave free (EventLog.recordRoom): its record's fixed header, stream, type
 * and id, so that frameInPlace can frame the record around the payload.
 */
export function recordRoomBefore(stream: string): (type: string, id: string | undefined) => number {
  const head = FIXED_RECORD_BYTES + Buffer.byteLength(stream, 'utf8');
  return (type, id) => head + utf8Of(type).length + (id === undefined ? GENERATED_ID_BYTES : Buffer.byteLength(id, 'utf8'));
}

/**
 * Frames an append whose payloads validateEvents laid out with room for
 * their records before each (recordRoomBefore, one after another in one
 * buffer): each record is written around its payload, which is not copied,
 * and the append is a view of that buffer. Undefined when the events are not
 * laid out so (events the engine made, or room that does not fit the
 * record): the caller frames them by copying; nothing but the rooms was
 * written, and the copying path reads only the payloads.
 */
function frameInPlace(events: EventToFrame[], firstPosition: number, firstVersion: number, maxEventBytes: number): FramedAppend | undefined {
  const bytes = events[0].packed;
  if (!bytes || !events[0].room) return undefined;
  const base = events[0].payloadStart! - events[0].room;
  const recordOffsets = offsetsFor(events.length);
  let at = base;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const h = event.payloadStart! - event.room!;
    if (event.packed !== bytes || h !== at) return undefined;
    if (event.type !== prefix.type) prefix.forType(event.type);
    const head = prefix.view;
    const idBytes = event.id === undefined ? GENERATED_ID_BYTES : Buffer.byteLength(event.id, 'utf8');
    if (event.room !== head.length + idBytes) return undefined;
    bytes.set(head, h);
    let flags = i === events.length - 1 ? FLAG_COMMIT : 0;
    if (event.id === undefined) {
      writeGeneratedId(bytes, h + head.length);
      flags |= FLAG_GENERATED_ID;
    } else {
      bytes.write(event.id, h + head.length, idBytes, 'utf8');
    }
    if (event.dataStart !== event.payloadStart) flags |= FLAG_METADATA;
    const end = event.payloadEnd!;
    const bodyLength = end - h - FRAME_HEADER_BYTES;
    if (bodyLength > maxEventBytes) throw new RangeError(`event ${i} is ${bodyLength} bytes encoded; the limit is ${maxEventBytes} bytes`);
    writeOwnFields(bytes, h, end, bodyLength, flags, idBytes, firstVersion + i, firstPosition + i);
    if (recordOffsets !== ONE_RECORD) recordOffsets[i] = h - base;
    at = end;
  }
  return new FramedAppend(bytes.subarray(base, at), recordOffsets);
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
    writeU32(bytes, prevPosition === NO_PREVIOUS ? 0 : prevOffset, at + AT_PREV_OFFSET);
    writeU32(bytes, batch.start, at + AT_BATCH_START);
    writeU32(bytes, batch.bytes, at + AT_BATCH_BYTES);
    writeU32(bytes, headerCrcOf(bytes, at), at + AT_HEADER_CRC);
    prevPosition = readU64(bytes, at + AT_POSITION);
    prevOffset = baseOffset + at;
  }
  return { position: prevPosition, offset: prevOffset };
}
