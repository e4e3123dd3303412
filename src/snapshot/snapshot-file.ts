import { Packr } from 'msgpackr';
import { CorruptionError } from '../errors';
import { snapshotFile } from '../store-layout';
import { AT_FILE_NUMBER, AT_FILE_VERSION, FILE_HEADER_BYTES, fileHeaderCrc, readFileHeader, writeFileHeader } from '../log/file-header';
import { payloadCodec } from '../log/payload-codec';
import { withNameTable, type StreamColumns } from '../log/stream-index';
import { checkStoredNameTable, encodeNames } from '../log/stream-name-table';

// Layout: see FORMAT.md beside this file.
export const SNAPSHOT_MAGIC = Buffer.from('EVFLDSNP', 'ascii');
export const SNAPSHOT_FORMAT_VERSION = 4;
/** Version 1 had no `lastRecord`: still decoded, but never trusted (its log end cannot be checked). */
export const OLDEST_READABLE_SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = FILE_HEADER_BYTES;

// The settings of event payloads, so that projection states follow the same
// data model as event data (checked before writing): Set, typed arrays,
// ArrayBuffer and bigints of any size come back as they went in.
const packr = payloadCodec;
/**
 * Versions 1 and 2 were written without moreTypes: a Set came back as an
 * array, binary as a Buffer (a Float64Array as bytes of whatever memory was
 * around it). Their projection states are not used (the projections are
 * rebuilt from the log); the rest of such a snapshot is.
 */
const legacyPackr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
const FIRST_VERSION_WITH_EXACT_STATES = 3;
/** Before version 4, `streams` held the names as an array of strings and the heads as arrays of numbers. */
const FIRST_VERSION_WITH_STREAM_COLUMNS = 4;

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
  /** Per stream: name (as UTF-8 bytes), last version, and the position and offset of its last event (parallel columns). */
  streams: StreamColumns;
  /** The stream index's sparse offsets (see src/log/stream-index.ts). */
  sparseOffsets: Uint32Array;
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
  body.copy(file, SNAPSHOT_HEADER_BYTES);
  writeFileHeader(file, SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION, body.length, file.subarray(SNAPSHOT_HEADER_BYTES));
  return file;
}

/** Checks and decodes a snapshot file; throws CorruptionError naming what is wrong. */
export function decodeSnapshot(file: Buffer, name: string): SnapshotContents {
  const where = snapshotFile(name);
  if (file.length < SNAPSHOT_HEADER_BYTES) {
    throw new CorruptionError({ file: where, offset: file.length, reason: `file is shorter than its ${SNAPSHOT_HEADER_BYTES}-byte header` });
  }
  const header = readFileHeader(file);
  if (!header.magic.equals(SNAPSHOT_MAGIC)) throw new CorruptionError({ file: where, offset: 0, reason: 'not an eventfold snapshot (bad magic)' });
  const version = header.version;
  if (version < OLDEST_READABLE_SNAPSHOT_VERSION || version > SNAPSHOT_FORMAT_VERSION) {
    throw new CorruptionError({ file: where, offset: AT_FILE_VERSION, reason: `unknown snapshot format version ${version}` });
  }
  const length = header.number;
  if (SNAPSHOT_HEADER_BYTES + length !== file.length) {
    throw new CorruptionError({ file: where, offset: AT_FILE_NUMBER, reason: `header says ${length} body bytes, the file holds ${file.length - SNAPSHOT_HEADER_BYTES}` });
  }
  const expectedCrc = header.storedCrc;
  const actualCrc = fileHeaderCrc(file, file.subarray(SNAPSHOT_HEADER_BYTES));
  if (expectedCrc !== actualCrc) {
    throw new CorruptionError({ file: where, offset: SNAPSHOT_HEADER_BYTES, reason: 'snapshot fails its checksum', expectedCrc, actualCrc });
  }
  const body = file.subarray(SNAPSHOT_HEADER_BYTES);
  if (version >= FIRST_VERSION_WITH_STREAM_COLUMNS) {
    const contents = packr.unpack(body) as SnapshotContents;
    checkStreamColumns(contents.streams, where);
    // The first builds that wrote version 4 (for a day, before any release) still wrote an array here.
    if (Array.isArray(contents.sparseOffsets)) contents.sparseOffsets = Uint32Array.from(contents.sparseOffsets);
    if (!(contents.sparseOffsets instanceof Uint32Array)) throw new CorruptionError({ file: where, offset: SNAPSHOT_HEADER_BYTES, reason: 'its sparse offsets are not 32-bit numbers' });
    return contents;
  }
  const contents = (version >= FIRST_VERSION_WITH_EXACT_STATES ? packr : legacyPackr).unpack(body) as Omit<SnapshotContents, 'streams' | 'sparseOffsets'> & { streams: LegacyStreams; sparseOffsets: number[] };
  return {
    ...contents,
    streams: streamColumnsOf(contents.streams, where),
    sparseOffsets: Uint32Array.from(contents.sparseOffsets),
    ...(version >= FIRST_VERSION_WITH_EXACT_STATES ? {} : { projections: {} }),
  };
}

/** `streams` as versions 1 to 3 held it. */
interface LegacyStreams {
  names: string[];
  versions: number[];
  positions: number[];
  offsets: number[];
}

/** The columns of version 4, with the hash table over the names (hashed here: a name listed twice makes the snapshot damaged). */
function streamColumnsOf(streams: LegacyStreams, where: string): StreamColumns {
  const { bytes, ends } = encodeNames(streams.names);
  const columns = { nameBytes: bytes, nameEnds: ends, versions: Float64Array.from(streams.versions), positions: Float64Array.from(streams.positions), offsets: Uint32Array.from(streams.offsets) };
  try {
    return withNameTable(columns);
  } catch (error) {
    throw new CorruptionError({ file: where, offset: SNAPSHOT_HEADER_BYTES, reason: `its streams: ${(error as Error).message}` });
  }
}

/** Columns of one length each, names that end in order, up to the end of their bytes (a CRC-checked file written otherwise is not ours). */
function checkStreamColumns(streams: StreamColumns | undefined, where: string): void {
  const fail = (reason: string) => {
    throw new CorruptionError({ file: where, offset: SNAPSHOT_HEADER_BYTES, reason: `its streams ${reason}` });
  };
  if (!streams || !(streams.nameBytes instanceof Uint8Array) || !(streams.nameEnds instanceof Uint32Array)) return fail('are not columns of name bytes');
  const count = streams.nameEnds.length;
  for (const column of [streams.versions, streams.positions]) {
    if (!(column instanceof Float64Array) || column.length !== count) return fail(`columns are not ${count} numbers each`);
  }
  if (!(streams.offsets instanceof Uint32Array) || streams.offsets.length !== count) fail(`offsets are not ${count} 32-bit numbers`);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = streams.nameEnds[i];
    if (end <= start) return fail(`name ${i} is empty or ends before it starts`);
    start = end;
  }
  if (start !== streams.nameBytes.length) fail(`names end at byte ${start} of ${streams.nameBytes.length}`);
  const table = streams.table ? checkStoredNameTable(streams.table, count) : 'have no hash table';
  if (table) fail(table);
}
