import { CorruptionError, UnsupportedFormatError } from '../errors';
import { fsError, type FileHandle, type FileSystem, type WriteMode } from '../fs/file-system';
import { AT_FILE_CRC, AT_FILE_VERSION, FILE_HEADER_BYTES, fileHeaderCrc, readFileHeader, writeFileHeader } from './file-header';

// Layout: see FORMAT.md beside this file.
export const SEGMENT_MAGIC = Buffer.from('EVFLDSEG', 'ascii');
export const FORMAT_VERSION = 3;
export const SEGMENT_HEADER_BYTES = FILE_HEADER_BYTES;
export const SEGMENT_SUFFIX = '.seg';

export function segmentName(basePosition: number): string {
  return String(basePosition).padStart(20, '0') + SEGMENT_SUFFIX;
}

/** The base position encoded in a segment's file name, or undefined if it is not a segment. */
export function parseSegmentName(name: string): number | undefined {
  const match = /^(\d{20})\.seg$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Segment header byte 10, bit 0: the segment was rewritten by a scavenge (see FORMAT.md, "Scavenged segment"). */
const AT_SEGMENT_FLAGS = 10;
const SEGMENT_SCAVENGED = 1;
/** Bit 1 (with bit 0): bytes 12–15 hold the byte offset where the scavenged segment's kept records end (its exact size). */
const SEGMENT_KEPT_END = 2;
const AT_KEPT_END = 12;
/** Scavenged segments only: how many positions the segment spans (the next segment's base − its base). */
const AT_SPAN = 24;

/** What a scavenged segment's header says about it. */
export interface ScavengeMark {
  /** The positions the segment spans: the next segment starts at base + span. */
  span: number;
  /**
   * Where its kept records end, which is the file's exact size; undefined in
   * a segment scavenged by a build before this field existed (FORMAT.md).
   */
  end: number | undefined;
}

/** `scavenged`: write the header of a scavenged segment that spans that many positions and whose kept records end at `end`. */
export function encodeSegmentHeader(basePosition: number, scavenged?: { span: number; end: number }): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  writeFileHeader(header, SEGMENT_MAGIC, FORMAT_VERSION, basePosition);
  if (scavenged !== undefined) {
    header[AT_SEGMENT_FLAGS] = SEGMENT_SCAVENGED | SEGMENT_KEPT_END;
    header.writeUInt32LE(scavenged.end, AT_KEPT_END);
    header.writeUInt32LE(scavenged.span, AT_SPAN);
    header.writeUInt32LE(fileHeaderCrc(header), AT_FILE_CRC);
  }
  return header;
}

/** Checks a segment header and returns its base position; throws CorruptionError naming what is wrong. */
export function decodeSegmentHeader(header: Buffer, file: string): number {
  if (header.length < SEGMENT_HEADER_BYTES) {
    throw new CorruptionError({ file, offset: header.length, reason: `file is shorter than its ${SEGMENT_HEADER_BYTES}-byte header` });
  }
  const fields = readFileHeader(header);
  if (!fields.magic.equals(SEGMENT_MAGIC)) {
    throw new CorruptionError({ file, offset: 0, reason: 'not an eventfold segment (bad magic)' });
  }
  const expectedCrc = fields.storedCrc;
  const actualCrc = fileHeaderCrc(header);
  if (expectedCrc !== actualCrc) {
    throw new CorruptionError({ file, offset: 0, reason: 'segment header fails its checksum', expectedCrc, actualCrc });
  }
  const version = fields.version;
  if (version === 2) {
    throw new UnsupportedFormatError(
      file,
      version,
      FORMAT_VERSION,
      'Format 2 records carry no write boundaries and no header checksum, so this version cannot tell a torn write from damage in them. ' +
        'To upgrade, open the store with the eventfold release that wrote it, read every event (readAll), and append them in order to a new, empty store with this version.',
    );
  }
  if (version !== FORMAT_VERSION) {
    throw new CorruptionError({ file, offset: AT_FILE_VERSION, reason: `unknown format version ${version} (this eventfold reads version ${FORMAT_VERSION})` });
  }
  return fields.number;
}

/** For a header that passed `decodeSegmentHeader`: what it says of a scavenge, undefined for a segment never scavenged. */
export function scavengeMark(header: Buffer): ScavengeMark | undefined {
  const flags = header[AT_SEGMENT_FLAGS];
  if ((flags & SEGMENT_SCAVENGED) === 0) return undefined;
  return { span: header.readUInt32LE(AT_SPAN), end: (flags & SEGMENT_KEPT_END) !== 0 ? header.readUInt32LE(AT_KEPT_END) : undefined };
}

/**
 * Creates a segment so that a crash leaves either no segment or a whole one:
 * header into a temp file, fsync, rename, fsync of the directory.
 */
export async function createSegment(fs: FileSystem, logDir: string, basePosition: number, mode: WriteMode = 'write'): Promise<FileHandle> {
  const name = segmentName(basePosition);
  const tmp = `${logDir}/${name}.tmp`;
  if (await fs.exists(tmp)) await fs.unlink(tmp);
  const handle = await fs.create(tmp, mode);
  try {
    const header = encodeSegmentHeader(basePosition);
    if ((await handle.write(header, 0)) !== header.length) throw fsError('EIO', `short write of segment header ${tmp}`);
    await handle.datasync();
    await fs.rename(tmp, `${logDir}/${name}`);
    await fs.syncDir(logDir);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}
