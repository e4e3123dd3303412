import { crc32Range } from './crc';
import {
  AT_BATCH_BYTES,
  AT_BATCH_START,
  AT_BODY_CRC,
  AT_FLAGS,
  AT_HEADER_CRC,
  AT_ID_BYTES,
  AT_LENGTH,
  AT_RESERVED,
  AT_RESERVED_2,
  AT_STREAM_BYTES,
  AT_TYPE_BYTES,
  FIXED_RECORD_BYTES,
  FRAME_HEADER_BYTES,
  HEADER_CRC_FROM,
  KNOWN_FLAGS,
  MAX_BODY_BYTES,
  MIN_BODY_BYTES,
} from './record-layout';

// Checking a record before anything trusts it (FORMAT.md, "Checking a
// record"): plausible header fields, header CRC, length within the file,
// body CRC — in that order, so a length that lies costs nothing.

/** The CRC a record's header field AT_HEADER_CRC must hold. */
export function headerCrcOf(chunk: Buffer, offset: number): number {
  return crc32Range(chunk, offset + HEADER_CRC_FROM, offset + FIXED_RECORD_BYTES);
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
 * The fast path of `checkFrame` for readers going through valid records:
 * the record's `L` when the whole record at `offset` is in `chunk` and
 * passes every check of `checkFrame`, else -1 (then `checkFrame` says why).
 * Allocates nothing.
 */
export function wholeRecordLength(chunk: Buffer, offset: number, bytesLeftInFile: number, fileOffset: number): number {
  if (bytesLeftInFile < FIXED_RECORD_BYTES || chunk.length - offset < FIXED_RECORD_BYTES) return -1;
  const length = chunk.readUInt32LE(offset + AT_LENGTH);
  if (FRAME_HEADER_BYTES + length > bytesLeftInFile || FRAME_HEADER_BYTES + length > chunk.length - offset) return -1;
  if (implausibleHeader(chunk, offset, fileOffset) !== undefined) return -1;
  if (chunk.readUInt32LE(offset + AT_HEADER_CRC) !== headerCrcOf(chunk, offset)) return -1;
  checkWork.bodyBytes += length - MIN_BODY_BYTES;
  const bodyCrc = crc32Range(chunk, offset + FIXED_RECORD_BYTES, offset + FRAME_HEADER_BYTES + length);
  return bodyCrc === chunk.readUInt32LE(offset + AT_BODY_CRC) ? length : -1;
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
  const actualCrc = crc32Range(chunk, offset + FIXED_RECORD_BYTES, offset + FRAME_HEADER_BYTES + length);
  if (expectedCrc !== actualCrc) return { kind: 'bad', reason: 'record fails its checksum', expectedCrc, actualCrc, bodyLength: length };
  return { kind: 'ok', length, flags: chunk[offset + AT_FLAGS] };
}
