import { crc32 } from '../log/crc';
import { CorruptionError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { checkFrame, decodeHeader, FLAG_COMMIT, FRAME_HEADER_BYTES, MAX_BODY_BYTES } from '../log/record';
import { segmentName, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { SnapshotContents } from './snapshot-file';
import { logFile } from '../store-layout';

type LastRecord = NonNullable<SnapshotContents['lastRecord']>;

/** CRC-32 of a whole record's bytes, as a snapshot remembers its last record. */
export function recordFingerprint(bytes: Uint8Array): number {
  return crc32(bytes);
}

/**
 * Checks that the log still holds, where the snapshot says its covered part
 * ends, the very record the snapshot saw last: `logEnd` is the end of that
 * record (or the header of the next, still empty, segment), the record there
 * passes its checks, carries the snapshot's position, is the COMMIT record of
 * its append, and its bytes have the CRC the snapshot recorded.
 *
 * Returns null when the snapshot can be used, else why it cannot (the open
 * then falls back to an older snapshot or a full replay). Throws
 * CorruptionError when the log is shorter than the snapshot: acknowledged
 * events are gone, which no fallback can hide.
 */
export async function checkSnapshotLogEnd(fs: FileSystem, dir: string, file: string, contents: SnapshotContents): Promise<string | null> {
  const { logEnd, lastRecord, position } = contents;
  const endSegment = logFile(segmentName(logEnd.segmentBase));
  if (!(await fs.exists(`${dir}/${endSegment}`))) {
    throw new CorruptionError({
      file: endSegment,
      offset: 0,
      reason: `${file} covers the log up to position ${position}, but segment ${segmentName(logEnd.segmentBase)} is missing: acknowledged events are missing from the log`,
    });
  }
  const endSize = await sizeOf(fs, `${dir}/${endSegment}`);
  if (endSize < logEnd.offset) {
    throw new CorruptionError({
      file: endSegment,
      offset: endSize,
      reason: `${file} covers the log up to offset ${logEnd.offset} of this segment (position ${position}), but the segment ends at ${endSize}: acknowledged events are missing from the log`,
    });
  }
  if (!lastRecord) return 'written by snapshot format 1, which does not record its last record: its log end cannot be checked';
  if (!(lastRecord.length > FRAME_HEADER_BYTES && lastRecord.length <= FRAME_HEADER_BYTES + MAX_BODY_BYTES)) return `its last record's recorded length ${lastRecord.length} is impossible`;
  if (!contents.segmentBases.includes(lastRecord.segmentBase) || !contents.segmentBases.includes(logEnd.segmentBase)) {
    return `its recorded segments do not include the segment of its last record or of its log end`;
  }
  const sameSegment = lastRecord.segmentBase === logEnd.segmentBase;
  if (sameSegment ? lastRecord.offset + lastRecord.length !== logEnd.offset : logEnd.segmentBase < lastRecord.segmentBase || logEnd.offset !== SEGMENT_HEADER_BYTES) {
    return `its recorded log end (offset ${logEnd.offset} of ${endSegment}) is not the end of its last record`;
  }
  const recordSegment = logFile(segmentName(lastRecord.segmentBase));
  if (!sameSegment && !(await fs.exists(`${dir}/${recordSegment}`))) {
    throw new CorruptionError({ file: recordSegment, offset: 0, reason: `${file} covers position ${position} in this segment, but it is missing: acknowledged events are missing from the log` });
  }
  const bytes = await readRange(fs, `${dir}/${recordSegment}`, lastRecord.offset, lastRecord.length);
  if (bytes.length < lastRecord.length) {
    throw new CorruptionError({ file: recordSegment, offset: lastRecord.offset + bytes.length, reason: `${file} covers position ${position}, but the segment ends inside its record: acknowledged events are missing from the log` });
  }
  const where = `offset ${lastRecord.offset} of ${recordSegment}`;
  const check = checkFrame(bytes, 0, bytes.length);
  if (check.kind !== 'ok' || FRAME_HEADER_BYTES + check.length !== bytes.length) {
    return `the log holds no whole record ending at its recorded log end (looked at ${where})`;
  }
  const found = decodeHeader(bytes, 0).position;
  if (found !== position) return `the record ending at its recorded log end (${where}) has position ${found}, not ${position}`;
  if ((check.flags & FLAG_COMMIT) === 0) return `the record of position ${position} at ${where} does not end its append (no COMMIT flag)`;
  if (recordFingerprint(bytes) !== lastRecord.crc) return `the record of position ${position} at ${where} is not the one the snapshot saw (its bytes differ)`;
  return null;
}

async function sizeOf(fs: FileSystem, path: string): Promise<number> {
  const handle = await fs.open(path);
  try {
    return await handle.size();
  } finally {
    await handle.close();
  }
}

async function readRange(fs: FileSystem, path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await fs.open(path);
  try {
    const wanted = Math.max(0, Math.min(length, (await handle.size()) - offset));
    const buffer = Buffer.alloc(wanted);
    let got = 0;
    while (got < wanted) {
      const n = await handle.read(buffer, got, wanted - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buffer.subarray(0, got);
  } finally {
    await handle.close();
  }
}
