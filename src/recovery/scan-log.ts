import { CorruptionError } from '../errors';
import { ensureDir, type FileHandle, type FileSystem } from '../fs/file-system';
import {
  batchBytesAt,
  batchStartAt,
  checkFrame,
  isValidHeader,
  lengthAt,
  decodeEvent,
  decodeHeader,
  FIXED_RECORD_BYTES,
  FLAG_COMMIT,
  FRAME_HEADER_BYTES,
  NO_PREVIOUS,
  positionAt,
  type RecordedEvent,
} from '../log/record';
import { SegmentBytes } from './segment-bytes';
import { createSegment, decodeSegmentHeader, parseSegmentName, segmentName, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import type { StreamIndex } from '../state/stream-index';
import type { RecoveryReport } from './report';
import { quarantineFrom, type Damage } from './quarantine';

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
  /**
   * The position the CLEAN marker recorded, when the last close was clean:
   * then there is no torn write, and any damage, or any difference between
   * the log's end and this position, is corruption.
   */
  cleanPosition?: number;
}

type ScanFindings = Pick<RecoveryReport, 'tornTail' | 'quarantine' | 'removedFiles' | 'segmentsScanned'>;

/**
 * Walks every segment from its header, checking every CRC, position, stream
 * version, chain link and write boundary, and fills the index with the
 * committed events. After a crash it cuts the last, unacknowledged write off
 * the last segment (the tail rule); anything else wrong is corruption (see
 * FORMAT.md).
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
      const damage = await scanSegment({
        handle,
        segment,
        isLast,
        index,
        findings,
        readOnly: options.readOnly === true,
        onCommit: options.onCommit,
        startOffset,
        snapshot: resume?.snapshot,
        cleanPosition: options.cleanPosition,
      });
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
  const clean = options.cleanPosition;
  if (clean !== undefined && !findings.quarantine && index.durableCount - 1 < clean) {
    // Nothing in the log is damaged, yet events acknowledged before the clean close are gone (a segment, or the end of one, is missing).
    const last = segments[segments.length - 1];
    const file = last ? `log/${last.name}` : 'log/';
    const error = new CorruptionError({
      file,
      offset: last?.durableSize ?? 0,
      reason: `the store was closed cleanly at position ${clean}, but the log ends at position ${index.durableCount - 1}: acknowledged events ${index.durableCount} to ${clean} are missing`,
    });
    if (options.repair !== 'truncate' || options.readOnly) throw error;
    if (last) {
      // Nothing to cut, but the repair still runs as one (snapshots and checkpoints past the end are set aside), and reports the loss.
      const handle = await fs.open(`${logDir}/${last.name}`);
      try {
        findings.quarantine = await quarantineFrom(fs, dir, segments, segments.length - 1, handle, { error, cutOffset: last.durableSize, badOffset: last.durableSize }, index.durableCount - 1);
      } finally {
        await handle.close().catch(() => undefined);
      }
    } else {
      findings.quarantine = { files: [], cutFile: file, cutOffset: 0, bytes: 0, records: 0, reason: error.message, lastPosition: -1, snapshotsSetAside: [], checkpointsReset: [], resumedAfterCrash: false };
    }
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

/** What scanning one segment needs to know about the rest of the log. */
interface SegmentContext {
  handle: FileHandle;
  segment: Segment;
  isLast: boolean;
  index: StreamIndex;
  findings: ScanFindings;
  readOnly: boolean;
  onCommit: ((events: RecordedEvent[]) => void) | undefined;
  startOffset: number;
  snapshot: string | undefined;
  /** Position the CLEAN marker recorded, when the last close was clean. */
  cleanPosition: number | undefined;
}

async function scanSegment(ctx: SegmentContext): Promise<Damage | undefined> {
  const { handle, segment, isLast, index, findings, readOnly, onCommit, startOffset, snapshot, cleanPosition } = ctx;
  const file = `log/${segment.name}`;
  const size = await handle.size();
  const resuming = startOffset > SEGMENT_HEADER_BYTES;
  const clean = cleanPosition !== undefined;
  if (resuming && size < startOffset) {
    throw new CorruptionError({
      file,
      offset: size,
      reason: `${snapshot} covers the log up to offset ${startOffset} of this segment (position ${index.durableCount - 1}), but the segment ends at ${size}: acknowledged events are missing from the log`,
    });
  }
  const header = Buffer.alloc(Math.min(size, SEGMENT_HEADER_BYTES));
  await handle.read(header, 0, header.length, 0);
  try {
    // A segment is renamed into place only after its header is fsynced, so
    // one shorter than its header is damage, never a roll a crash interrupted.
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

  const bytes = new SegmentBytes(handle, size);
  let offset = startOffset;
  let lastCommitEnd = startOffset;
  /** The write (group-commit batch) the last good record belongs to. */
  let write: { start: number; bytes: number } | undefined;
  const pending: PendingEvent[] = [];
  const pendingEvents: RecordedEvent[] = [];
  const nextPosition = () => index.durableCount + pending.length;

  const damaged = (reason: string, extra: { expectedCrc?: number; actualCrc?: number } = {}, at = offset): Damage => {
    discardPending(pending, index);
    const error = new CorruptionError({ file, offset: at, reason, ...extra });
    return { error, cutOffset: lastCommitEnd, badOffset: at };
  };

  while (offset < size) {
    const { check, rel } = await bytes.check(offset);
    if (check.kind !== 'ok') {
      const reason = check.kind === 'bad' ? check.reason : 'unreadable record';
      const crcs = check.kind === 'bad' ? { expectedCrc: check.expectedCrc, actualCrc: check.actualCrc } : {};
      if (!isLast) return damaged(`${reason} in a segment that is not the last`, crcs);
      if (clean) return damaged(`${reason}; the store was closed cleanly at position ${cleanPosition}, so this is damage to acknowledged data, not a torn write`, crcs);
      // After a crash: is this the last, unacknowledged write, torn?
      const damagedWrite = write && offset < write.start + write.bytes ? write.start : offset;
      const knownEnd = write && offset < write.start + write.bytes ? write.start + write.bytes : undefined;
      let tail;
      try {
        tail = await readTailAfterDamage(bytes, offset, damagedWrite, knownEnd, nextPosition());
      } catch (error) {
        if (!(error instanceof UndecidableTail)) throw error;
        return damaged(`${reason}; after it, a record claims a write starting at byte offset ${error.at}, inside bytes already found not to be a record: whether a later write follows the damage cannot be told without reading bytes twice (open with repair: 'truncate' to cut there)`, crcs);
      }
      if (tail.laterWriteAt !== undefined) {
        return damaged(`${reason}, and a later write follows it at byte offset ${tail.laterWriteAt}: the damaged write was acknowledged`, crcs);
      }
      const why = `${reason} at byte offset ${offset}, in the last write (from byte offset ${damagedWrite}), and no later write follows it: the last write was damaged or torn; it may have been acknowledged — a crash leaves no way to tell`;
      return truncateTornTail(handle, segment, file, lastCommitEnd, size, pending, pending.length + tail.eventsOfDamagedWrite, why, index, findings, readOnly);
    }
    const chunk = bytes.window;
    let header;
    let event: RecordedEvent | undefined;
    try {
      header = decodeHeader(chunk, rel);
      if (onCommit) event = decodeEvent(chunk, rel, check.length);
    } catch {
      return damaged('record passes its checksum but cannot be decoded');
    }
    if (!write && resuming && offset === startOffset && header.batchStart <= offset) {
      // Resuming where an earlier scan of this process stopped (a read-only
      // store following a writer) can land inside a write whose first
      // appends it already took in: the write began before this point.
      write = { start: header.batchStart, bytes: header.batchBytes };
    } else if (!write || header.batchStart !== write.start || header.batchBytes !== write.bytes) {
      // A new write begins: at this very record, and only after a whole append.
      if (header.batchStart !== offset || pending.length > 0) {
        return damaged(`record claims to belong to a write that starts at byte offset ${header.batchStart}, which does not fit the records before it`);
      }
      write = { start: header.batchStart, bytes: header.batchBytes };
    }
    if (header.position !== nextPosition()) {
      return damaged(`record has position ${header.position} where position ${nextPosition()} was expected (duplicate, missing or out-of-order position)`);
    }
    // Whole, valid writes after the clean close's position are kept: no damage
    // makes them, only a writer that did not see the marker (an old owner in
    // the moment before it noticed its lock had moved). Damage after it is
    // still corruption: the crash rules never apply when the marker is there.
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
    if (isLast && !clean) {
      const why = 'the log ends in the middle of an append: its write was never completed, so never acknowledged';
      return truncateTornTail(handle, segment, file, lastCommitEnd, size, pending, pending.length, why, index, findings, readOnly);
    }
    return damaged(isLast ? `the log ends in the middle of an append, but the store was closed cleanly at position ${cleanPosition}` : 'segment ends in the middle of an append (no commit record)');
  }
  segment.durableSize = size;
  index.endOffset = size;
  return undefined;
}

/**
 * The tail rule (FORMAT.md, "Tail rule after a crash"): reads the records
 * from the damage at `damagedAt` on, resynchronising byte by byte. Finds
 * whether any record belongs to a write that started at or after the damaged
 * write's end — proof that the damaged write was followed by another, so was
 * acknowledged — and the highest position any header of the damaged write
 * names (its events from `nextPosition` up to there are cut).
 *
 * Work is linear in the bytes scanned, whatever the data holds: each offset
 * costs a few plausibility checks and at most a 60-byte header CRC; a body is
 * CRC'd only (a) for a record of the damaged write that starts past every
 * body already CRC'd (to step over its data), or (b) for the record at a
 * claimed write start `B ≥ E` (once per `B`, and only past every claimed
 * write start already found false). A claimed write start inside a span
 * already found false cannot be decided without CRCing bytes twice: the open
 * fails loudly then (repair recovers), it never guesses.
 */
async function readTailAfterDamage(
  bytes: SegmentBytes,
  damagedAt: number,
  damagedWrite: number,
  knownWriteEnd: number | undefined,
  nextPosition: number,
): Promise<{ laterWriteAt?: number; eventsOfDamagedWrite: number }> {
  let lastPosition = nextPosition - 1;
  // Where the damaged write ends, when a trusted header says so (the last good
  // record's, or the damaged record's own when its header CRC passes): a later
  // write can only start at or after that end. Anything inside the damaged
  // write — its events' data included — proves nothing, however it looks.
  let laterWritesFrom = knownWriteEnd ?? damagedAt + 1;
  if (damagedAt + FIXED_RECORD_BYTES <= bytes.size) {
    const rel = await bytes.ensure(damagedAt, FIXED_RECORD_BYTES);
    if (isValidHeader(bytes.window, rel, damagedAt)) {
      const start = batchStartAt(bytes.window, rel);
      if (start === damagedWrite || start === damagedAt) laterWritesFrom = Math.max(laterWritesFrom, start + batchBytesAt(bytes.window, rel));
    }
  }
  /** End of the furthest body CRC'd to step over a record of the damaged write. */
  let steppedUntil = damagedAt;
  /** End of the furthest valid record found not to start a write: no record starts inside its body. */
  let dataUntil = 0;
  /** End of the furthest span a passing header claimed whose body failed its CRC: what lies inside is unknown. */
  let unknownUntil = 0;
  const startsWrite = new Map<number, boolean>();
  const isWriteStart = async (at: number): Promise<boolean> => {
    let known = startsWrite.get(at);
    if (known === undefined) {
      if (at < dataUntil) {
        known = false;
      } else if (at < unknownUntil) {
        // Deciding would CRC bytes already CRC'd: only a header that fails settles it cheaply.
        const rel = await bytes.ensure(at, FIXED_RECORD_BYTES);
        if (at + FIXED_RECORD_BYTES <= bytes.size && isValidHeader(bytes.window, rel, at)) throw new UndecidableTail(at);
        known = false;
      } else {
        const { check, rel } = await bytes.check(at);
        known = check.kind === 'ok' && batchStartAt(bytes.window, rel) === at && positionAt(bytes.window, rel) >= nextPosition;
        // Only a body that was CRC'd sets a mark; a check that stopped at the header cost nothing.
        if (!known && check.kind === 'ok') dataUntil = Math.max(dataUntil, at + FRAME_HEADER_BYTES + check.length);
        if (check.kind === 'bad' && check.bodyLength !== undefined) unknownUntil = Math.max(unknownUntil, at + FRAME_HEADER_BYTES + check.bodyLength);
      }
      startsWrite.set(at, known);
    }
    return known;
  };
  let at = damagedAt;
  while (at + FIXED_RECORD_BYTES <= bytes.size) {
    let rel = await bytes.ensure(at, FIXED_RECORD_BYTES);
    // The byte-by-byte part runs synchronously over the bytes in memory.
    const window = bytes.window;
    const last = window.length - FIXED_RECORD_BYTES;
    const shift = bytes.start;
    while (rel <= last && !isValidHeader(window, rel, rel + shift)) rel++;
    at = rel + shift;
    if (rel > last) continue;
    // A header that passes its CRC is trusted for what it says, even if its body was torn.
    const batchStart = batchStartAt(bytes.window, rel);
    const batchBytes = batchBytesAt(bytes.window, rel);
    const position = positionAt(bytes.window, rel);
    const recordBytes = FRAME_HEADER_BYTES + lengthAt(bytes.window, rel);
    const ofDamagedWrite = batchStart === damagedWrite || batchStart === damagedAt;
    if (ofDamagedWrite && position >= nextPosition && position < nextPosition + batchBytes / FIXED_RECORD_BYTES) {
      lastPosition = Math.max(lastPosition, position);
    }
    if (batchStart > damagedAt && batchStart >= laterWritesFrom && (await isWriteStart(batchStart))) return { laterWriteAt: batchStart, eventsOfDamagedWrite: 0 };
    if (ofDamagedWrite && at >= steppedUntil) {
      // A whole record of the damaged write: its data may look like records, so step over it (each byte CRC'd once at most).
      if (at + recordBytes <= bytes.size) steppedUntil = at + recordBytes;
      const found = await bytes.check(at);
      if (found.check.kind === 'ok') {
        at += FRAME_HEADER_BYTES + found.check.length;
        continue;
      }
    }
    // Anything else (a record naming an earlier write, or inside a damaged one) proves nothing by itself: look on.
    at++;
  }
  return { eventsOfDamagedWrite: lastPosition - nextPosition + 1 };
}

/** A claimed write start lies inside bytes already found not to be a record: deciding would CRC bytes twice. */
class UndecidableTail extends Error {
  constructor(readonly at: number) {
    super(`undecidable tail at ${at}`);
  }
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
  eventsDiscarded: number,
  reason: string,
  index: StreamIndex,
  findings: ScanFindings,
  readOnly: boolean,
): Promise<undefined> {
  discardPending(pending, index);
  if (!readOnly) {
    await handle.truncate(lastCommitEnd);
    await handle.datasync();
  }
  findings.tornTail = { file, offset: lastCommitEnd, bytesTruncated: size - lastCommitEnd, eventsDiscarded, reason };
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

/**
 * Counts the well-formed records found anywhere in `bytes` (cut or
 * quarantined bytes), resynchronising byte by byte past damage: a header is
 * checked before any body is CRC'd, so the cost is linear.
 */
export function countValidRecords(bytes: Buffer): number {
  let count = 0;
  let at = 0;
  // A body is CRC'd only past every body already CRC'd, so each byte is CRC'd
  // once at most, whatever the bytes hold (many headers claiming long bodies);
  // a record inside a span already found bad is not counted.
  let checkedUntil = 0;
  while (at + FIXED_RECORD_BYTES <= bytes.length) {
    if (at < checkedUntil) {
      at++;
      continue;
    }
    const check = checkFrame(bytes, at, bytes.length - at);
    if (check.kind === 'ok') {
      count++;
      at += FRAME_HEADER_BYTES + check.length;
      checkedUntil = at;
    } else {
      // Only a body that was CRC'd (its header passed, it fits in the bytes) sets the mark; other checks cost nothing.
      if (check.kind === 'bad' && check.bodyLength !== undefined) checkedUntil = at + FRAME_HEADER_BYTES + check.bodyLength;
      at++;
    }
  }
  return count;
}
