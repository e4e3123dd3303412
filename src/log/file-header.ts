import { crc32 } from './crc';
import { readU64, writeU64 } from './record-layout';

// The 32-byte header that starts every segment and every snapshot file
// (FORMAT.md "Segment file", src/snapshot/FORMAT.md), named once:
//
// | offset | size | field                                                        |
// |      0 |    8 | magic (ASCII, says which kind of file)                       |
// |      8 |    2 | format version (u16)                                         |
// |     10 |    6 | reserved, zero                                               |
// |     16 |    8 | the file's number (u64): a segment's base position, a snapshot's body length |
// |     24 |    4 | reserved, zero                                               |
// |     28 |    4 | CRC of bytes 0–27 (a snapshot's continues over its body)     |
export const FILE_HEADER_BYTES = 32;
export const AT_FILE_MAGIC = 0;
export const FILE_MAGIC_BYTES = 8;
export const AT_FILE_VERSION = 8;
export const AT_FILE_NUMBER = 16;
export const AT_FILE_CRC = 28;

/** What a file header says; nothing is checked yet but its length. */
export interface FileHeader {
  magic: Buffer;
  version: number;
  number: number;
  /** The CRC the header holds. */
  storedCrc: number;
}

/** Writes a header at the start of `file` (all 32 bytes, CRC included): `body`, when given, is covered by the CRC too. */
export function writeFileHeader(file: Buffer, magic: Buffer, version: number, number: number, body?: Buffer): void {
  file.fill(0, 0, FILE_HEADER_BYTES);
  magic.copy(file, AT_FILE_MAGIC, 0, FILE_MAGIC_BYTES);
  file.writeUInt16LE(version, AT_FILE_VERSION);
  writeU64(file, number, AT_FILE_NUMBER);
  file.writeUInt32LE(fileHeaderCrc(file, body), AT_FILE_CRC);
}

/** Reads the fields of the header at the start of `file` (at least FILE_HEADER_BYTES long). */
export function readFileHeader(file: Buffer): FileHeader {
  return {
    magic: file.subarray(AT_FILE_MAGIC, AT_FILE_MAGIC + FILE_MAGIC_BYTES),
    version: file.readUInt16LE(AT_FILE_VERSION),
    number: readU64(file, AT_FILE_NUMBER),
    storedCrc: file.readUInt32LE(AT_FILE_CRC),
  };
}

/** The CRC of header bytes 0–27 of `file`, continued over `body` when given. */
export function fileHeaderCrc(file: Buffer, body?: Buffer): number {
  const header = crc32(file.subarray(0, AT_FILE_CRC));
  return body ? crc32(body, header) : header;
}
