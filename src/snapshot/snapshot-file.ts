import CRC32 from 'crc-32';
import { Packr } from 'msgpackr';
import { CorruptionError } from '../errors';
import { snapshotFile } from '../store-layout';

// Layout: see FORMAT.md beside this file.
export const SNAPSHOT_MAGIC = Buffer.from('EVFLDSNP', 'ascii');
export const SNAPSHOT_FORMAT_VERSION = 3;
/** Version 1 had no `lastRecord`: still decoded, but never trusted (its log end cannot be checked). */
export const OLDEST_READABLE_SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 32;

// The settings of records (src/log/record.ts), so that projection states
// follow the same data model as event data (checked before writing): Set,
// typed arrays, ArrayBuffer and bigints of any size come back as they went in.
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true });
/**
 * Versions 1 and 2 were written without moreTypes: a Set came back as an
 * array, binary as a Buffer (a Float64Array as bytes of whatever memory was
 * around it). Their projection states are not used (the projections are
 * rebuilt from the log); the rest of such a snapshot is.
 */
const legacyPackr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
const FIRST_VERSION_WITH_EXACT_STATES = 3;

/** Everything an open needs to skip the log up to `position`. */
export interface SnapshotContents {
  /** Last global position the snapshot covers. */
  position: number;
  /** Where the record after `position` starts: a segment (by base position) and a byte offset in it. */
  logEnd: { segmentBase: number; offset: number };
  /**
   * The record of `position` (the last one covered), so that an open can check
   * that the log still holds it where `logEnd` says: its segment, start offset,
   * length in bytes (frame header included) and the CRC-32 of all those bytes.
   * Absent in format version 1.
   */
  lastRecord?: { segmentBase: number; offset: number; length: number; crc: number };
  /** Base positions of the segments up to and including logEnd's. */
  segmentBases: number[];
  /** Per stream: name, last version, and the position and offset of its last event (parallel arrays). */
  streams: { names: string[]; versions: number[]; positions: number[]; offsets: number[] };
  /** The stream index's sparse offsets (see src/log/stream-index.ts). */
  sparseOffsets: number[];
  /** Each projection's state, with the projection version that folded it. */
  projections: Record<string, { version: number; state: unknown }>;
  createdAt: string;
}

export function snapshotName(position: number): string {
  return `${String(position).padStart(20, '0')}.snap`;
}

/** The position in a snapshot's file name, or undefined if it is not a snapshot. */
export function parseSnapshotName(name: string): number | undefined {
  const match = /^(\d{20})\.snap$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function encodeSnapshot(contents: SnapshotContents): Buffer {
  const body = packr.pack(contents);
  const file = Buffer.allocUnsafe(SNAPSHOT_HEADER_BYTES + body.length);
  file.fill(0, 0, SNAPSHOT_HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(file, 0);
  file.writeUInt16LE(SNAPSHOT_FORMAT_VERSION, 8);
  file.writeUInt32LE(body.length % 2 ** 32, 16);
  file.writeUInt32LE(Math.floor(body.length / 2 ** 32), 20);
  body.copy(file, SNAPSHOT_HEADER_BYTES);
  file.writeUInt32LE(snapshotCrc(file), 28);
  return file;
}

/** Checks and decodes a snapshot file; throws CorruptionError naming what is wrong. */
export function decodeSnapshot(file: Buffer, name: string): SnapshotContents {
  const where = snapshotFile(name);
  if (file.length < SNAPSHOT_HEADER_BYTES) {
    throw new CorruptionError({ file: where, offset: file.length, reason: `file is shorter than its ${SNAPSHOT_HEADER_BYTES}-byte header` });
  }
  if (!file.subarray(0, 8).equals(SNAPSHOT_MAGIC)) throw new CorruptionError({ file: where, offset: 0, reason: 'not an eventfold snapshot (bad magic)' });
  const version = file.readUInt16LE(8);
  if (version < OLDEST_READABLE_SNAPSHOT_VERSION || version > SNAPSHOT_FORMAT_VERSION) {
    throw new CorruptionError({ file: where, offset: 8, reason: `unknown snapshot format version ${version}` });
  }
  const length = file.readUInt32LE(16) + file.readUInt32LE(20) * 2 ** 32;
  if (SNAPSHOT_HEADER_BYTES + length !== file.length) {
    throw new CorruptionError({ file: where, offset: 16, reason: `header says ${length} body bytes, the file holds ${file.length - SNAPSHOT_HEADER_BYTES}` });
  }
  const expectedCrc = file.readUInt32LE(28);
  const actualCrc = snapshotCrc(file);
  if (expectedCrc !== actualCrc) {
    throw new CorruptionError({ file: where, offset: SNAPSHOT_HEADER_BYTES, reason: 'snapshot fails its checksum', expectedCrc, actualCrc });
  }
  if (version >= FIRST_VERSION_WITH_EXACT_STATES) return packr.unpack(file.subarray(SNAPSHOT_HEADER_BYTES)) as SnapshotContents;
  const contents = legacyPackr.unpack(file.subarray(SNAPSHOT_HEADER_BYTES)) as SnapshotContents;
  return { ...contents, projections: {} };
}

/** CRC of header bytes 0–27 followed by the body. */
function snapshotCrc(file: Buffer): number {
  return CRC32.buf(file.subarray(SNAPSHOT_HEADER_BYTES), CRC32.buf(file.subarray(0, 28))) >>> 0;
}
