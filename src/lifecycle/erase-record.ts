import { crc32 } from '../log/crc';
import { payloadCodec } from '../log/payload-codec';
import { AT_BODY_CRC, AT_FLAGS, AT_ID_BYTES, AT_LENGTH, AT_STREAM_BYTES, AT_TYPE_BYTES, FIXED_RECORD_BYTES, FLAG_METADATA, FRAME_HEADER_BYTES } from '../log/record';

/**
 * A copy of a checked record with another type and data, and no metadata:
 * its position, version, stream, id (in the same encoding), timestamp and
 * chain link as they were, its length and body CRC redone. The header CRC
 * and the write fields are left to the scavenge's rewrite, which redoes them
 * for every record it keeps (src/log/FORMAT.md, "Scavenged segment"). How a
 * scavenge erases a `$metadata` record of the store's own `$lifecycle`.
 */
export function reframeRecord(record: Buffer, type: string, data: unknown): Buffer {
  const streamBytes = record.readUInt16LE(AT_STREAM_BYTES);
  const idStart = FIXED_RECORD_BYTES + streamBytes + record.readUInt16LE(AT_TYPE_BYTES);
  const id = record.subarray(idStart, idStart + record.readUInt16LE(AT_ID_BYTES));
  const typeUtf8 = Buffer.from(type, 'utf8');
  const payload = payloadCodec.pack(data ?? null);
  const out = Buffer.concat([record.subarray(0, FIXED_RECORD_BYTES + streamBytes), typeUtf8, id, payload]);
  out.writeUInt32LE(out.length - FRAME_HEADER_BYTES, AT_LENGTH);
  out.writeUInt16LE(typeUtf8.length, AT_TYPE_BYTES);
  out[AT_FLAGS] &= ~FLAG_METADATA;
  out.writeUInt32LE(crc32(out.subarray(FIXED_RECORD_BYTES)), AT_BODY_CRC);
  return out;
}
