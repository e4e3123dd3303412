// The record format's fields, named once: every reader, writer, the scan and
// the tests address a record through these names, never by a literal offset.
// Layout and rules: FORMAT.md beside this file ("Record", format version 3).

/** Field offsets inside a record's fixed header (all integers little-endian). */
export const AT_HEADER_CRC = 0; // u32: CRC of bytes HEADER_CRC_FROM … FIXED_RECORD_BYTES-1
export const AT_LENGTH = 4; // u32 `L`: bytes from FRAME_HEADER_BYTES to the record's end
export const AT_BODY_CRC = 8; // u32: CRC of the body (names and payload)
export const AT_FLAGS = 12; // u8: FLAG_*
export const AT_RESERVED = 13; // u8: zero
export const AT_STREAM_BYTES = 14; // u16 `S`
export const AT_TYPE_BYTES = 16; // u16 `T`
export const AT_ID_BYTES = 18; // u16 `I`
export const AT_VERSION = 20; // u32: version in its stream
export const AT_POSITION = 24; // u64: global position
export const AT_PREV_POSITION = 32; // u64: previous position of the stream + 1 (0: none)
export const AT_PREV_OFFSET = 40; // u32: that event's byte offset in its segment
export const AT_BATCH_START = 44; // u32: where the write carrying this record starts in its segment
export const AT_BATCH_BYTES = 48; // u32: that write's length
export const AT_RESERVED_2 = 52; // u32: zero
export const AT_TIMESTAMP = 56; // f64: milliseconds since the epoch

/** Bytes of the fixed part of a record (the record header); the body (stream, type, id, payload) follows. */
export const FIXED_RECORD_BYTES = 64;
/** Bytes before the length `L` starts counting: header CRC and the length itself. */
export const FRAME_HEADER_BYTES = 8;
/** The header CRC covers bytes HEADER_CRC_FROM … FIXED_RECORD_BYTES-1. */
export const HEADER_CRC_FROM = AT_LENGTH;
/** Bytes of a generated id (a version 4 UUID, stored binary). */
export const GENERATED_ID_BYTES = 16;

export const FLAG_COMMIT = 1;
export const FLAG_METADATA = 2;
export const FLAG_GENERATED_ID = 4;
export const KNOWN_FLAGS = FLAG_COMMIT | FLAG_METADATA | FLAG_GENERATED_ID;

/** Smallest `L`: a record with no body bytes at all (always refused: a record has names). */
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

/**
 * Writes a u32 field little-endian at `at`, byte by byte: on the framing's
 * hot path this is cheaper than Buffer#writeUInt32LE, whose range checks the
 * callers do not need (every field value is known to fit).
 */
export function writeU32(target: Buffer, value: number, at: number): void {
  target[at] = value;
  target[at + 1] = value >>> 8;
  target[at + 2] = value >>> 16;
  target[at + 3] = value >>> 24;
}

/** Writes a u64 field (a safe integer) little-endian at `at`. */
export function writeU64(target: Buffer, value: number, at: number): void {
  writeU32(target, value % TWO_32, at);
  writeU32(target, Math.floor(value / TWO_32), at + 4);
}

/**
 * Reads a u32 field little-endian at `at` of a record known to lie whole in
 * `source`: without Buffer#readUInt32LE's argument checks, which cost more
 * than the read on the replay's path (a read past the end gives NaN, not a
 * RangeError: callers stay inside checked records).
 */
export function readU32(source: Uint8Array, at: number): number {
  return (source[at] | (source[at + 1] << 8) | (source[at + 2] << 16)) + source[at + 3] * 0x100_0000;
}

/** Reads a u16 field little-endian at `at` (as readU32: inside a checked record). */
export function readU16(source: Uint8Array, at: number): number {
  return source[at] | (source[at + 1] << 8);
}

/** Reads a u64 field little-endian at `at` (exact up to 2⁵³; as readU32: inside a checked record). */
export function readU64(source: Uint8Array, at: number): number {
  return readU32(source, at) + readU32(source, at + 4) * TWO_32;
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
  return readU32(chunk, offset + AT_LENGTH);
}
