import { randomFillSync } from 'node:crypto';
import CRC32 from 'crc-32';
import { Packr } from 'msgpackr';

// Layout: see FORMAT.md beside this file ("Record", format version 3).
// Every offset of the fixed header is named here once; nothing else in the
// code reads a record by a literal offset.
export const AT_HEADER_CRC = 0;
export const AT_LENGTH = 4;
export const AT_BODY_CRC = 8;
export const AT_FLAGS = 12;
export const AT_RESERVED = 13;
export const AT_STREAM_BYTES = 14;
export const AT_TYPE_BYTES = 16;
export const AT_ID_BYTES = 18;
export const AT_VERSION = 20;
export const AT_POSITION = 24;
export const AT_PREV_POSITION = 32;
export const AT_PREV_OFFSET = 40;
export const AT_BATCH_START = 44;
export const AT_BATCH_BYTES = 48;
export const AT_RESERVED_2 = 52;
export const AT_TIMESTAMP = 56;
/** Bytes of the fixed part of a record (the record header). */
export const FIXED_RECORD_BYTES = 64;
/** Bytes before the length `L` starts counting: header CRC and the length itself. */
export const FRAME_HEADER_BYTES = 8;
/** The header CRC covers bytes 4 … 63 of the fixed header. */
const HEADER_CRC_FROM = AT_LENGTH;
export const FLAG_COMMIT = 1;
export const FLAG_METADATA = 2;
export const FLAG_GENERATED_ID = 4;
const KNOWN_FLAGS = FLAG_COMMIT | FLAG_METADATA | FLAG_GENERATED_ID;
export const MIN_BODY_BYTES = FIXED_RECORD_BYTES - FRAME_HEADER_BYTES;
/** Hard cap for any record a reader will allocate, whatever a length field claims. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Largest byte offset a record field can hold (u32): segments stay below it. */
export const MAX_SEGMENT_OFFSET = 0xffff_ffff;
/**
 * Largest `segmentSize` a store accepts (1 GiB). A segment may exceed its
 * size by one batch; a batch that would end past MAX_SEGMENT_OFFSET starts a
 * new segment instead, so every offset fits its u32 field.
 */
export const MAX_SEGMENT_SIZE = 1024 * 1024 * 1024;
/** `prevPosition` of a stream's first event. */
export const NO_PREVIOUS = -1;

const TWO_32 = 0x1_0000_0000;

// Plain arrays and maps only: no shared record structures, so every record
// decodes on its own (needed to read from any offset and to salvage data).
// moreTypes: typed arrays, ArrayBuffer, Set and bigints beyond 64 bits keep
// their exact type (msgpack extensions, see FORMAT.md "Payload"); copyBuffers:
// binary data read back is its own copy, not a view of a read buffer.
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true });

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

export interface EventToFrame {
  type: string;
  data?: unknown;
  metadata?: unknown;
  id?: string;
}

/** One append framed in memory; `seal` fills in chain links and CRCs once its place in the log is known. */
export interface FramedAppend {
  bytes: Buffer;
  /** Start of each record inside `bytes`. */
  recordOffsets: number[];
}

// Appends are framed one after another into a shared arena and handed out
// as views of it: no allocation or copy per append, and appends framed in a
// row are contiguous, so the writer can usually write a batch without
// concatenating it. A full arena is replaced; the old one lives on until the
// appends that view it are written.
const ARENA_BYTES = 8 * 1024 * 1024;
let arena = Buffer.allocUnsafe(ARENA_BYTES);
let arenaUsed = 0;
let randomPool = Buffer.allocUnsafe(0);
let randomAt = 0;

// Event types repeat: their UTF-8 bytes are kept (up to a bound) instead of re-encoded per event.
const typeBytesCache = new Map<string, Buffer>();

function utf8Of(type: string): Buffer {
  let bytes = typeBytesCache.get(type);
  if (!bytes) {
    bytes = Buffer.from(type, 'utf8');
    if (typeBytesCache.size < 4096) typeBytesCache.set(type, bytes);
  }
  return bytes;
}

/** Makes room for `needed` bytes of the append being framed, which started at `start` in the arena; returns the new start. */
function ensureRoom(start: number, needed: number): number {
  if (start + needed <= arena.length) return start;
  const fresh = Buffer.allocUnsafe(Math.max(ARENA_BYTES, needed * 2));
  arena.copy(fresh, 0, start, arena.length);
  arena = fresh;
  arenaUsed = 0;
  return 0;
}

/** 16 random bytes shaped as a version 4 UUID, written at `at`. */
function writeGeneratedId(target: Buffer, at: number): void {
  if (randomAt + 16 > randomPool.length) {
    randomPool = randomFillSync(Buffer.allocUnsafe(64 * 1024));
    randomAt = 0;
  }
  for (let k = 0; k < 16; k++) target[at + k] = randomPool[randomAt + k];
  randomAt += 16;
  target[at + 6] = (target[at + 6] & 0x0f) | 0x40;
  target[at + 8] = (target[at + 8] & 0x3f) | 0x80;
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
  const streamBytes = streamUtf8.length;
  const recordOffsets: number[] = new Array(events.length);
  // The append starts at `base` in the arena (which may move while it grows); `at` counts from there.
  let base = arenaUsed;
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const typeUtf8 = utf8Of(event.type);
    base = ensureRoom(base, at + FIXED_RECORD_BYTES + streamBytes + typeUtf8.length + 3 * (event.id?.length ?? 6));
    const start = at;
    recordOffsets[i] = start;
    let flags = i === events.length - 1 ? FLAG_COMMIT : 0;
    at += FIXED_RECORD_BYTES;
    arena.set(streamUtf8, base + at);
    at += streamBytes;
    arena.set(typeUtf8, base + at);
    at += typeUtf8.length;
    let idBytes: number;
    if (event.id === undefined) {
      writeGeneratedId(arena, base + at);
      idBytes = 16;
      flags |= FLAG_GENERATED_ID;
    } else {
      idBytes = arena.write(event.id, base + at, 'utf8');
    }
    at += idBytes;
    const hasMetadata = event.metadata !== undefined && event.metadata !== null;
    if (hasMetadata) flags |= FLAG_METADATA;
    const payload = packr.pack(hasMetadata ? [event.data ?? null, event.metadata] : (event.data ?? null));
    const bodyLength = at + payload.length - start - FRAME_HEADER_BYTES;
    if (bodyLength > maxEventBytes) throw new RangeError(`event ${i} is ${bodyLength} bytes encoded; the limit is ${maxEventBytes} bytes`);
    base = ensureRoom(base, at + payload.length);
    arena.set(payload, base + at);
    at += payload.length;

    const h = base + start;
    arena.writeUInt32LE(bodyLength, h + AT_LENGTH);
    arena[h + AT_FLAGS] = flags;
    arena[h + AT_RESERVED] = 0;
    arena.writeUInt16LE(streamBytes, h + AT_STREAM_BYTES);
    arena.writeUInt16LE(typeUtf8.length, h + AT_TYPE_BYTES);
    arena.writeUInt16LE(idBytes, h + AT_ID_BYTES);
    arena.writeUInt32LE(firstVersion + i, h + AT_VERSION);
    writeU64(arena, firstPosition + i, h + AT_POSITION);
    arena.writeUInt32LE(0, h + AT_RESERVED_2);
    arena.writeDoubleLE(timestamp, h + AT_TIMESTAMP);
    // The body (names and payload) never changes after framing: its CRC is taken here, off the writer's path.
    arena.writeUInt32LE(CRC32.buf(arena.subarray(h + FIXED_RECORD_BYTES, base + at)) >>> 0, h + AT_BODY_CRC);
  }
  arenaUsed = base + at;
  return { bytes: arena.subarray(base, base + at), recordOffsets };
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

function headerCrcOf(chunk: Buffer, offset: number): number {
  return CRC32.buf(chunk.subarray(offset + HEADER_CRC_FROM, offset + FIXED_RECORD_BYTES)) >>> 0;
}

/**
 * Bytes of record bodies CRC'd by `checkFrame` in this process, so far: a
 * measure of the work a scan does that does not depend on the machine's
 * speed (the resync's cost must stay linear in the bytes it reads).
 */
export const checkWork = { bodyBytes: 0 };

export type FrameCheck =
  | { kind: 'ok'; length: number; flags: number }
  | { kind: 'incomplete'; needed: number }
  /** `bodyLength`: set when the header passed and the body was CRC'd and failed (the bytes it claimed were read). */
  | { kind: 'bad'; reason: string; expectedCrc?: number; actualCrc?: number; bodyLength?: number };

/**
 * Cheap checks of a fixed header that need no CRC: flags, reserved bytes,
 * length bounds, names inside the record, the write it claims to belong to
 * covering it. Returns why it is impossible, or undefined if plausible.
 * `fileOffset` is where the record sits in its segment (undefined: unknown).
 */
function implausibleHeader(chunk: Buffer, offset: number, fileOffset: number | undefined): string | undefined {
  const length = chunk.readUInt32LE(offset + AT_LENGTH);
  if (length < MIN_BODY_BYTES || length > MAX_BODY_BYTES) return `impossible record length ${length}`;
  const flags = chunk[offset + AT_FLAGS];
  if ((flags & ~KNOWN_FLAGS) !== 0) return `unknown record flags ${flags}`;
  if (chunk[offset + AT_RESERVED] !== 0 || chunk.readUInt32LE(offset + AT_RESERVED_2) !== 0) return 'reserved bytes are not zero';
  const names = chunk.readUInt16LE(offset + AT_STREAM_BYTES) + chunk.readUInt16LE(offset + AT_TYPE_BYTES) + chunk.readUInt16LE(offset + AT_ID_BYTES);
  if (FIXED_RECORD_BYTES + names >= FRAME_HEADER_BYTES + length) return 'record names run past its end';
  if (fileOffset !== undefined) {
    const batchStart = chunk.readUInt32LE(offset + AT_BATCH_START);
    const batchBytes = chunk.readUInt32LE(offset + AT_BATCH_BYTES);
    if (batchStart > fileOffset || batchStart + batchBytes < fileOffset + FRAME_HEADER_BYTES + length) return 'record lies outside the write it claims';
  }
  return undefined;
}

/**
 * The resync's test, run at every byte offset after damage: true when a
 * fixed header at `offset` (at `fileOffset` in its segment) is plausible and
 * passes its CRC. Allocates nothing; the CRC runs only on the rare offset
 * whose fields are all plausible.
 */
export function isValidHeader(chunk: Buffer, offset: number, fileOffset: number): boolean {
  const length = chunk.readUInt32LE(offset + AT_LENGTH);
  if (length < MIN_BODY_BYTES || length > MAX_BODY_BYTES) return false;
  if ((chunk[offset + AT_FLAGS] & ~KNOWN_FLAGS) !== 0 || chunk[offset + AT_RESERVED] !== 0) return false;
  return implausibleHeader(chunk, offset, fileOffset) === undefined && chunk.readUInt32LE(offset + AT_HEADER_CRC) === headerCrcOf(chunk, offset);
}

/**
 * Checks the fixed header at `offset` of `chunk` (which must hold its
 * FIXED_RECORD_BYTES): plausible fields, then the header CRC. Cost is
 * bounded by the header size, whatever the length field says — this is what
 * makes resynchronising after damage linear.
 */
export function checkHeader(chunk: Buffer, offset: number, fileOffset?: number): { ok: true } | { ok: false; reason: string; expectedCrc?: number; actualCrc?: number } {
  const implausible = implausibleHeader(chunk, offset, fileOffset);
  if (implausible) return { ok: false, reason: implausible };
  const expectedCrc = chunk.readUInt32LE(offset + AT_HEADER_CRC);
  const actualCrc = headerCrcOf(chunk, offset);
  if (expectedCrc !== actualCrc) return { ok: false, reason: 'record header fails its checksum', expectedCrc, actualCrc };
  return { ok: true };
}

/**
 * Checks the record at `offset` of `chunk`: its header first (so a length
 * that lies is caught before any body is read), then its body CRC.
 * `bytesLeftInFile` bounds the length field, so a corrupt length never leads
 * to a huge allocation; `fileOffset` (the record's offset in its segment)
 * lets the write fields be checked too.
 */
export function checkFrame(chunk: Buffer, offset: number, bytesLeftInFile: number, fileOffset?: number): FrameCheck {
  const available = chunk.length - offset;
  if (bytesLeftInFile < FIXED_RECORD_BYTES) return { kind: 'bad', reason: `only ${bytesLeftInFile} bytes left, less than a record header` };
  if (available < FIXED_RECORD_BYTES) return { kind: 'incomplete', needed: FIXED_RECORD_BYTES };
  const header = checkHeader(chunk, offset, fileOffset);
  if (!header.ok) return { kind: 'bad', reason: header.reason, expectedCrc: header.expectedCrc, actualCrc: header.actualCrc };
  const length = chunk.readUInt32LE(offset + AT_LENGTH);
  if (FRAME_HEADER_BYTES + length > bytesLeftInFile) {
    return { kind: 'bad', reason: `record length ${length} runs past the end of the file` };
  }
  if (available < FRAME_HEADER_BYTES + length) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES + length };
  const expectedCrc = chunk.readUInt32LE(offset + AT_BODY_CRC);
  checkWork.bodyBytes += length - MIN_BODY_BYTES;
  const actualCrc = CRC32.buf(chunk.subarray(offset + FIXED_RECORD_BYTES, offset + FRAME_HEADER_BYTES + length)) >>> 0;
  if (expectedCrc !== actualCrc) return { kind: 'bad', reason: 'record fails its checksum', expectedCrc, actualCrc, bodyLength: length };
  return { kind: 'ok', length, flags: chunk[offset + AT_FLAGS] };
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

export function positionAt(chunk: Buffer, offset: number): number {
  return readU64(chunk, offset + AT_POSITION);
}

export function batchStartAt(chunk: Buffer, offset: number): number {
  return chunk.readUInt32LE(offset + AT_BATCH_START);
}

export function batchBytesAt(chunk: Buffer, offset: number): number {
  return chunk.readUInt32LE(offset + AT_BATCH_BYTES);
}

export function lengthAt(chunk: Buffer, offset: number): number {
  return chunk.readUInt32LE(offset + AT_LENGTH);
}

export function decodeHeader(chunk: Buffer, offset: number): RecordHeader {
  const streamBytes = chunk.readUInt16LE(offset + AT_STREAM_BYTES);
  return {
    position: readU64(chunk, offset + AT_POSITION),
    version: chunk.readUInt32LE(offset + AT_VERSION),
    prevPosition: readU64(chunk, offset + AT_PREV_POSITION) - 1,
    prevOffset: chunk.readUInt32LE(offset + AT_PREV_OFFSET),
    stream: chunk.toString('utf8', offset + FIXED_RECORD_BYTES, offset + FIXED_RECORD_BYTES + streamBytes),
    batchStart: chunk.readUInt32LE(offset + AT_BATCH_START),
    batchBytes: chunk.readUInt32LE(offset + AT_BATCH_BYTES),
  };
}

/** Decodes a checked record's event. */
export function decodeEvent(chunk: Buffer, offset: number, length: number): RecordedEvent {
  const flags = chunk[offset + AT_FLAGS];
  const streamEnd = offset + FIXED_RECORD_BYTES + chunk.readUInt16LE(offset + AT_STREAM_BYTES);
  const typeEnd = streamEnd + chunk.readUInt16LE(offset + AT_TYPE_BYTES);
  const idEnd = typeEnd + chunk.readUInt16LE(offset + AT_ID_BYTES);
  const payload = packr.unpack(chunk, { start: idEnd, end: offset + FRAME_HEADER_BYTES + length }) as unknown;
  const hasMetadata = (flags & FLAG_METADATA) !== 0;
  return {
    position: readU64(chunk, offset + AT_POSITION),
    stream: chunk.toString('utf8', offset + FIXED_RECORD_BYTES, streamEnd),
    version: chunk.readUInt32LE(offset + AT_VERSION),
    type: chunk.toString('utf8', streamEnd, typeEnd),
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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function formatUuid(b: Buffer, at: number): string {
  return (
    HEX[b[at]] + HEX[b[at + 1]] + HEX[b[at + 2]] + HEX[b[at + 3]] + '-' + HEX[b[at + 4]] + HEX[b[at + 5]] + '-' +
    HEX[b[at + 6]] + HEX[b[at + 7]] + '-' + HEX[b[at + 8]] + HEX[b[at + 9]] + '-' + HEX[b[at + 10]] + HEX[b[at + 11]] +
    HEX[b[at + 12]] + HEX[b[at + 13]] + HEX[b[at + 14]] + HEX[b[at + 15]]
  );
}

function writeU64(target: Buffer, value: number, at: number): void {
  target.writeUInt32LE(value % TWO_32, at);
  target.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

function readU64(source: Buffer, at: number): number {
  return source.readUInt32LE(at) + source.readUInt32LE(at + 4) * TWO_32;
}
