import CRC32 from 'crc-32';
import { Packr } from 'msgpackr';

// Layout: see FORMAT.md beside this file.
export const FRAME_HEADER_BYTES = 8;
export const FLAG_COMMIT = 1;
export const MIN_BODY_BYTES = 2;
/** Hard cap for any record a reader will allocate, whatever a length field claims. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

// Plain arrays and maps only: no shared record structures, so every record
// decodes on its own (needed to read from any offset and to salvage data).
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

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

/** The msgpack body (without the flags byte) of one event. */
export function encodeEvent(e: RecordedEvent): Buffer {
  return packr.pack([e.position, e.stream, e.version, e.type, e.data, e.metadata, e.id, e.timestamp]);
}

/**
 * Frames the encoded events of one append into one buffer; only the last
 * record carries COMMIT. Returns the buffer and each record's start offset.
 */
export function frameAppend(bodies: Buffer[]): { bytes: Buffer; offsets: number[] } {
  let total = 0;
  for (const body of bodies) total += FRAME_HEADER_BYTES + 1 + body.length;
  const bytes = Buffer.allocUnsafe(total);
  const offsets: number[] = new Array(bodies.length);
  let at = 0;
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i];
    const flags = i === bodies.length - 1 ? FLAG_COMMIT : 0;
    offsets[i] = at;
    bytes.writeUInt32LE(body.length + 1, at);
    bytes[at + 8] = flags;
    body.copy(bytes, at + 9);
    bytes.writeUInt32LE(CRC32.buf(body, CRC32.buf([flags])) >>> 0, at + 4);
    at += FRAME_HEADER_BYTES + 1 + body.length;
  }
  return { bytes, offsets };
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
  if ((flags & ~FLAG_COMMIT) !== 0) return { kind: 'bad', reason: `unknown record flags ${flags}` };
  return { kind: 'ok', length, flags };
}

/** Decodes a checked frame's event. */
export function decodeEvent(chunk: Buffer, offset: number, length: number): RecordedEvent {
  const fields = packr.unpack(chunk.subarray(offset + 9, offset + 8 + length)) as unknown[];
  return {
    position: fields[0] as number,
    stream: fields[1] as string,
    version: fields[2] as number,
    type: fields[3] as string,
    data: fields[4],
    metadata: (fields[5] ?? null) as unknown,
    id: fields[6] as string,
    timestamp: fields[7] as number,
  };
}
