import { CorruptionError } from '../errors';
import { ensureDir, type FileHandle, type FileSystem } from '../fs/file-system';
import { checkFrame, decodeEvent, decodeHeader, FRAME_HEADER_BYTES, FLAG_COMMIT, NO_PREVIOUS, type RecordedEvent } from '../log/record';
import { createSegment, decodeSegmentHeader, parseSegmentName, segmentName, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import type { StreamIndex } from '../state/stream-index';
import type { RecoveryReport } from './report';
import { quarantineFrom, type Damage } from './quarantine';

const CHUNK_BYTES = 4 * 1024 * 1024;

export interface ScanOptions {
  repair: 'none' | 'truncate';
  /** Look only: report what recovery would cut or remove, change nothing (for `eventfold verify`). */
  readOnly?: boolean;
  /** Receives the events of each committed append, in order (projections are rebuilt from these). */
  onCommit?: (events: RecordedEvent[]) => void;
  /** Called after each segment is scanned (for progress bars). */
  onSegment?: (scanned: number, total: number) => void;
  /**
   * Resume after a snapshot: the index already holds everything before this
   * place, so only the log from here on is read. `snapshot` names the file
   * for errors; `segmentBases` are the segments the snapshot saw.
   */
  resumeAt?: { snapshot: string; position: number; segmentBase: number; offset: number; segmentBases: number[] };
}

type ScanFindings = Pick<RecoveryReport, 'tornTail' | 'quarantine' | 'removedFiles' | 'segmentsScanned'>;

/**
 * Walks every segment from its header, checking every CRC, position and
 * stream version, and fills the index with the committed events. Cuts a torn
 * tail off the last segment; anything else wrong is corruption (see FORMAT.md).
 */
export async function scanLog(
  fs: FileSystem,
  dir: string,
  index: StreamIndex,
  options: ScanOptions,
): Promise<{ segments: Segment[] } & ScanFindings> {
  const logDir = `${dir}/log`;
  if (!options.readOnly) await ensureDir(fs, logDir);
  const findings: ScanFindings = { tornTail: null, quarantine: null, removedFiles: [], segmentsScanned: 0 };
  const names = await fs.readdir(logDir);
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    if (!options.readOnly) await fs.unlink(`${logDir}/${name}`);
    findings.removedFiles.push(`log/${name}`);
  }
  if (findings.removedFiles.length > 0 && !options.readOnly) await fs.syncDir(logDir);
  let segments: Segment[] = names
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: number } => s.base !== undefined)
    .sort((a, b) => a.base - b.base)
    .map((s) => ({ ...s, durableSize: 0 }));

  const resume = options.resumeAt;
  let first = 0;
  if (resume) first = await skipCoveredSegments(fs, logDir, segments, resume);
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i];
    const isLast = i === segments.length - 1;
    findings.segmentsScanned++;
    const handle = await fs.open(`${logDir}/${segment.name}`);
    try {
      const startOffset = resume && i === first ? resume.offset : SEGMENT_HEADER_BYTES;
      const damage = await scanSegment(handle, segment, isLast, index, findings, options.readOnly === true, options.onCommit, startOffset, resume?.snapshot);
      if (damage === 'remove-incomplete-segment') {
        await handle.close();
        if (options.readOnly) {
          findings.removedFiles.push(`log/${segment.name}`);
          segments = segments.slice(0, i);
          break;
        }
        await fs.unlink(`${logDir}/${segment.name}`);
        await fs.syncDir(logDir);
        findings.removedFiles.push(`log/${segment.name}`);
        segments = segments.slice(0, i);
        break;
      }
      if (damage) {
        if (options.repair !== 'truncate' || options.readOnly) throw damage.error;
        findings.quarantine = await quarantineFrom(fs, dir, segments, i, handle, damage, index.durableCount - 1);
        segments = damage.cutOffset === 0 ? segments.slice(0, i) : segments.slice(0, i + 1);
        segment.durableSize = damage.cutOffset;
        if (damage.cutOffset > 0) index.endOffset = damage.cutOffset;
        break;
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
    options.onSegment?.(i + 1, segments.length);
  }
  if (segments.length === 0 && !options.readOnly) {
    const base = index.durableCount;
    await (await createSegment(fs, logDir, base)).close();
    segments = [{ base, name: segmentName(base), durableSize: SEGMENT_HEADER_BYTES }];
    index.endOffset = SEGMENT_HEADER_BYTES;
  }
  for (const segment of segments) index.segmentBases.push(segment.base);
  return { segments, ...findings };
}

/** A record read after the last COMMIT: it becomes durable only when its append's COMMIT record is read. */
interface PendingEvent {
  stream: string;
  version: number;
  position: number;
  offset: number;
}

async function scanSegment(
  handle: FileHandle,
  segment: Segment,
  isLast: boolean,
  index: StreamIndex,
  findings: ScanFindings,
  readOnly: boolean,
  onCommit: ((events: RecordedEvent[]) => void) | undefined,
  startOffset: number,
  snapshot: string | undefined,
): Promise<Damage | 'remove-incomplete-segment' | undefined> {
  const file = `log/${segment.name}`;
  const size = await handle.size();
  const resuming = startOffset > SEGMENT_HEADER_BYTES;
  if (resuming && size < startOffset) {
    throw new CorruptionError({
      file,
      offset: size,
      reason: `${snapshot} covers the log up to offset ${startOffset} of this segment (position ${index.durableCount - 1}), but the segment ends at ${size}: acknowledged events are missing from the log`,
    });
  }
  if (size < SEGMENT_HEADER_BYTES && isLast && segment.base === index.durableCount) {
    // Its header was never completely written, so it cannot hold any event:
    // the remains of a roll that a crash interrupted.
    return 'remove-incomplete-segment';
  }
  const header = Buffer.alloc(Math.min(size, SEGMENT_HEADER_BYTES));
  await handle.read(header, 0, header.length, 0);
  try {
    const base = decodeSegmentHeader(header, file);
    if (base !== segment.base) {
      throw new CorruptionError({ file, offset: 16, reason: `header says base position ${base}, the file name says ${segment.base}` });
    }
    if (base !== index.durableCount && !resuming) {
      throw new CorruptionError({
        file,
        offset: 16,
        reason:
          base > index.durableCount
            ? `segment starts at position ${base} but the log before it ends at position ${index.durableCount - 1}: a segment is missing`
            : `segment starts at position ${base}, overlapping events before it (expected ${index.durableCount})`,
      });
    }
  } catch (error) {
    if (error instanceof CorruptionError) return { error, cutOffset: 0, badOffset: 0 };
    throw error;
  }

  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = startOffset;
  let offset = startOffset;
  let lastCommitEnd = startOffset;
  const pending: PendingEvent[] = [];
  const pendingEvents: RecordedEvent[] = [];
  const nextPosition = () => index.durableCount + pending.length;

  const damaged = (reason: string, extra: { expectedCrc?: number; actualCrc?: number } = {}): Damage => {
    discardPending(pending, index);
    const error = new CorruptionError({ file, offset, reason, ...extra });
    return { error, cutOffset: lastCommitEnd, badOffset: offset };
  };

  while (offset < size) {
    let rel = offset - chunkStart;
    let check = checkFrame(chunk, rel, size - offset);
    if (check.kind === 'incomplete') {
      chunk = await readAt(handle, offset, Math.max(CHUNK_BYTES, check.needed), size);
      chunkStart = offset;
      rel = 0;
      check = checkFrame(chunk, rel, size - offset);
    }
    if (check.kind !== 'ok') {
      const reason = check.kind === 'bad' ? check.reason : 'unreadable record';
      const crcs = check.kind === 'bad' ? { expectedCrc: check.expectedCrc, actualCrc: check.actualCrc } : {};
      if (isLast && !(await validRecordFollows(handle, offset + 1, size))) {
        return truncateTornTail(handle, segment, file, lastCommitEnd, size, pending, index, findings, readOnly);
      }
      return damaged(isLast ? `${reason}, and valid records follow it` : `${reason} in a segment that is not the last`, crcs);
    }
    let header;
    let event: RecordedEvent | undefined;
    try {
      header = decodeHeader(chunk, rel);
      if (onCommit) event = decodeEvent(chunk, rel, check.length);
    } catch {
      return damaged('record passes its checksum but cannot be decoded');
    }
    if (header.position !== nextPosition()) {
      return damaged(`record has position ${header.position} where position ${nextPosition()} was expected (duplicate, missing or out-of-order position)`);
    }
    const entry = index.entry(header.stream);
    if (header.version !== entry.pendingVersion + 1) {
      return damaged(`event of stream "${header.stream}" has version ${header.version} where ${entry.pendingVersion + 1} was expected`);
    }
    const previous = lastPendingOf(pending, header.stream) ?? entry;
    const expectedPrev = entry.pendingVersion < 0 ? NO_PREVIOUS : previous.position;
    if (header.prevPosition !== expectedPrev || (expectedPrev !== NO_PREVIOUS && header.prevOffset !== previous.offset)) {
      return damaged(`event of stream "${header.stream}" links to position ${header.prevPosition} at offset ${header.prevOffset}, but its previous event is position ${expectedPrev} at offset ${previous.offset}`);
    }
    entry.pendingVersion = header.version;
    pending.push({ stream: header.stream, version: header.version, position: header.position, offset });
    if (event) pendingEvents.push(event);
    offset += FRAME_HEADER_BYTES + check.length;
    if (check.flags & FLAG_COMMIT) {
      for (const p of pending) index.addDurable(p.stream, p.version, p.position, 1, () => p.offset);
      pending.length = 0;
      if (onCommit) {
        onCommit(pendingEvents.slice());
        pendingEvents.length = 0;
      }
      lastCommitEnd = offset;
    }
  }
  if (pending.length > 0) {
    if (isLast) return truncateTornTail(handle, segment, file, lastCommitEnd, size, pending, index, findings, readOnly);
    return damaged('segment ends in the middle of an append (no commit record)');
  }
  segment.durableSize = size;
  index.endOffset = size;
  return undefined;
}

/**
 * With a snapshot, the segments wholly before its end are not read: they must
 * be exactly the ones it saw. Returns the index of the first segment to scan.
 */
async function skipCoveredSegments(fs: FileSystem, logDir: string, segments: Segment[], resume: NonNullable<ScanOptions['resumeAt']>): Promise<number> {
  const at = segments.findIndex((s) => s.base === resume.segmentBase);
  const listed = segments.slice(0, Math.max(at, 0)).map((s) => s.base);
  const expected = resume.segmentBases.filter((base) => base < resume.segmentBase);
  const missing = at < 0 ? resume.segmentBase : expected.find((base) => !listed.includes(base));
  if (missing !== undefined) {
    throw new CorruptionError({
      file: `log/${segmentName(missing)}`,
      offset: 0,
      reason: `${resume.snapshot} covers the log up to position ${resume.position}, but segment ${segmentName(missing)} is missing: acknowledged events are missing from the log`,
    });
  }
  for (const segment of segments.slice(0, at)) {
    const handle = await fs.open(`${logDir}/${segment.name}`);
    segment.durableSize = await handle.size();
    await handle.close();
  }
  return at;
}

function lastPendingOf(pending: PendingEvent[], stream: string): PendingEvent | undefined {
  for (let i = pending.length - 1; i >= 0; i--) if (pending[i].stream === stream) return pending[i];
  return undefined;
}

/** Drops bytes after the last commit: they were never acknowledged. Synced before anything new is written. */
async function truncateTornTail(
  handle: FileHandle,
  segment: Segment,
  file: string,
  lastCommitEnd: number,
  size: number,
  pending: PendingEvent[],
  index: StreamIndex,
  findings: ScanFindings,
  readOnly: boolean,
): Promise<undefined> {
  discardPending(pending, index);
  if (!readOnly) {
    await handle.truncate(lastCommitEnd);
    await handle.datasync();
  }
  findings.tornTail = { file, offset: lastCommitEnd, bytesTruncated: size - lastCommitEnd, eventsDiscarded: pending.length };
  segment.durableSize = lastCommitEnd;
  index.endOffset = lastCommitEnd;
  return undefined;
}

/** Forgets events read after the last commit: their append never completed. */
function discardPending(pending: PendingEvent[], index: StreamIndex): void {
  for (const p of pending) {
    const entry = index.entry(p.stream);
    entry.pendingVersion = entry.version;
    if (entry.version < 0) index.streams.delete(p.stream);
  }
}

async function readAt(handle: FileHandle, offset: number, length: number, size: number): Promise<Buffer> {
  const wanted = Math.min(length, size - offset);
  const buffer = Buffer.allocUnsafe(wanted);
  let got = 0;
  while (got < wanted) {
    const n = await handle.read(buffer, got, wanted - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buffer.subarray(0, got);
}

/** Is there any record with a valid checksum starting anywhere in [from, size)? */
export async function validRecordFollows(handle: FileHandle, from: number, size: number): Promise<boolean> {
  return (await countValidRecords(await readAt(handle, from, size - from, size))) > 0;
}

/** Counts well-formed records found anywhere in `bytes`, resynchronising byte by byte past damage. */
export function countValidRecords(bytes: Buffer): number {
  let count = 0;
  let at = 0;
  while (at + FRAME_HEADER_BYTES < bytes.length) {
    const check = checkFrame(bytes, at, bytes.length - at);
    if (check.kind === 'ok' && looksLikeEvent(bytes, at, check.length)) {
      count++;
      at += FRAME_HEADER_BYTES + check.length;
    } else {
      at++;
    }
  }
  return count;
}

function looksLikeEvent(bytes: Buffer, at: number, length: number): boolean {
  try {
    decodeEvent(bytes, at, length);
    return true;
  } catch {
    return false;
  }
}
