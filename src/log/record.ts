import { randomFillSync } from 'node:crypto';
import CRC32 from 'crc-32';
import { Packr } from 'msgpackr';

// Layout: see FORMAT.md beside this file ("Record", format version 2).
export const FRAME_HEADER_BYTES = 8;
export const FLAG_COMMIT = 1;
export const FLAG_METADATA = 2;
export const FLAG_GENERATED_ID = 4;
const KNOWN_FLAGS = FLAG_COMMIT | FLAG_METADATA | FLAG_GENERATED_ID;
/** Bytes of the fixed part of a record, frame header included. */
export const FIXED_RECORD_BYTES = 48;
export const MIN_BODY_BYTES = FIXED_RECORD_BYTES - FRAME_HEADER_BYTES;
/** Hard cap for any record a reader will allocate, whatever a length field claims. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
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
 * Frames the events of one append (positions and versions consecutive), all
 * but the chain links and CRCs, which `sealAppend` writes. Only the last
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
    arena.writeUInt32LE(bodyLength, h);
    arena[h + 8] = flags;
    arena[h + 9] = 0;
    arena.writeUInt16LE(streamBytes, h + 10);
    arena.writeUInt16LE(typeUtf8.length, h + 12);
    arena.writeUInt16LE(idBytes, h + 14);
    writeU64(arena, firstPosition + i, h + 16);
    arena.writeUInt32LE(firstVersion + i, h + 24);
    arena.writeDoubleLE(timestamp, h + 40);
  }
  arenaUsed = base + at;
  return { bytes: arena.subarray(base, base + at), recordOffsets };
}

/**
 * Writes each record's link to the previous event of its stream, then its
 * CRC. `baseOffset` is where `bytes` will start in its segment; `previous`
 * is the stream's last event before this append. Returns the link to give
 * the stream's next append.
 */
export function sealAppend(
  append: FramedAppend,
  baseOffset: number,
  previous: { position: number; offset: number },
): { position: number; offset: number } {
  const { bytes, recordOffsets } = append;
  let prevPosition = previous.position;
  let prevOffset = previous.offset;
  for (let i = 0; i < recordOffsets.length; i++) {
    const at = recordOffsets[i];
    writeU64(bytes, prevPosition + 1, at + 28);
    bytes.writeUInt32LE(prevPosition === NO_PREVIOUS ? 0 : prevOffset, at + 36);
    const length = bytes.readUInt32LE(at);
    bytes.writeUInt32LE(CRC32.buf(bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length)) >>> 0, at + 4);
    prevPosition = readU64(bytes, at + 16);
    prevOffset = baseOffset + at;
  }
  return { position: prevPosition, offset: prevOffset };
}

export type FrameCheck =
  | { kind: 'ok'; length: number; flags: number }
  | { kind: 'incomplete'; needed: number }
  | { kind: 'bad'; reason: string; expectedCrc?: number; actualCrc?: number };

/**
 * Checks the frame at `offset` of `chunk`. `bytesLeftInFile` bounds the
 * length field, so a corrupt length never leads to a huge allocation.
 */
export function checkFrame(chunk: Buffer, offset: number, bytesLeftInFile: number): FrameCheck {
  const available = chunk.length - offset;
  if (bytesLeftInFile < FRAME_HEADER_BYTES) return { kind: 'bad', reason: `only ${bytesLeftInFile} bytes left, less than a record header` };
  if (available < FRAME_HEADER_BYTES) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES };
  const length = chunk.readUInt32LE(offset);
  if (length < MIN_BODY_BYTES || length > MAX_BODY_BYTES) return { kind: 'bad', reason: `impossible record length ${length}` };
  if (FRAME_HEADER_BYTES + length > bytesLeftInFile) {
    return { kind: 'bad', reason: `record length ${length} runs past the end of the file` };
  }
  if (available < FRAME_HEADER_BYTES + length) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES + length };
  const expectedCrc = chunk.readUInt32LE(offset + 4);
  const actualCrc = CRC32.buf(chunk.subarray(offset + 8, offset + 8 + length)) >>> 0;
  if (expectedCrc !== actualCrc) return { kind: 'bad', reason: 'record fails its checksum', expectedCrc, actualCrc };
  const flags = chunk[offset + 8];
  if ((flags & ~KNOWN_FLAGS) !== 0) return { kind: 'bad', reason: `unknown record flags ${flags}` };
  const variable = chunk.readUInt16LE(offset + 10) + chunk.readUInt16LE(offset + 12) + chunk.readUInt16LE(offset + 14);
  if (FIXED_RECORD_BYTES + variable >= FRAME_HEADER_BYTES + length) return { kind: 'bad', reason: 'record names run past its end' };
  return { kind: 'ok', length, flags };
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
}

export function positionAt(chunk: Buffer, offset: number): number {
  return readU64(chunk, offset + 16);
}

export function decodeHeader(chunk: Buffer, offset: number): RecordHeader {
  const streamBytes = chunk.readUInt16LE(offset + 10);
  return {
    position: readU64(chunk, offset + 16),
    version: chunk.readUInt32LE(offset + 24),
    prevPosition: readU64(chunk, offset + 28) - 1,
    prevOffset: chunk.readUInt32LE(offset + 36),
    stream: chunk.toString('utf8', offset + FIXED_RECORD_BYTES, offset + FIXED_RECORD_BYTES + streamBytes),
  };
}

/** Decodes a checked record's event. */
export function decodeEvent(chunk: Buffer, offset: number, length: number): RecordedEvent {
  const flags = chunk[offset + 8];
  const streamEnd = offset + FIXED_RECORD_BYTES + chunk.readUInt16LE(offset + 10);
  const typeEnd = streamEnd + chunk.readUInt16LE(offset + 12);
  const idEnd = typeEnd + chunk.readUInt16LE(offset + 14);
  const payload = packr.unpack(chunk, { start: idEnd, end: offset + FRAME_HEADER_BYTES + length }) as unknown;
  const hasMetadata = (flags & FLAG_METADATA) !== 0;
  return {
    position: readU64(chunk, offset + 16),
    stream: chunk.toString('utf8', offset + FIXED_RECORD_BYTES, streamEnd),
    version: chunk.readUInt32LE(offset + 24),
    type: chunk.toString('utf8', streamEnd, typeEnd),
    data: hasMetadata ? (payload as unknown[])[0] : payload,
    metadata: hasMetadata ? (payload as unknown[])[1] : null,
    id: flags & FLAG_GENERATED_ID ? formatUuid(chunk, typeEnd) : chunk.toString('utf8', typeEnd, idEnd),
    timestamp: chunk.readDoubleLE(offset + 40),
  };
}

/**
 * The events of a framed append as readers will see them, for projections to
 * fold before it is written: decoded from the frame, so a projection never
 * holds (or freezes) the caller's own objects.
 */
export function decodeAppend(append: FramedAppend): RecordedEvent[] {
  return append.recordOffsets.map((at) => decodeEvent(append.bytes, at, append.bytes.readUInt32LE(at)));
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
