import { CorruptionError } from '../errors';
import { ensureDir, type FileHandle, type FileSystem } from '../fs/file-system';
// Straight from the modules, not through record.ts: its re-exports are getters, called per record.
import { batchBytesAt, batchStartAt, FIXED_RECORD_BYTES, FLAG_COMMIT, FRAME_HEADER_BYTES, lengthAt, NO_PREVIOUS, positionAt } from '../log/record-layout';
import { isValidHeader, type FrameCheck } from '../log/check-record';
import { decodeEvent, decodeHeader, type RecordedEvent, type RecordHeader } from '../log/decode-record';
import { SegmentBytes } from './segment-bytes';
import { AT_FILE_NUMBER } from '../log/file-header';
import { createSegment, decodeSegmentHeader, parseSegmentName, scavengeMark, segmentName, SEGMENT_HEADER_BYTES, type ScavengeMark } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import { segmentHolding, type StreamHead, type StreamIndex } from '../log/stream-index';
import { logDirOf, logFile } from '../store-layout';
import type { RecoveryReport } from '../log-reports';
import { quarantineFrom } from './quarantine';

export interface ScanOptions {
  repair: 'none' | 'truncate';
  /** Look only: report what recovery would cut or remove, change nothing (for `eventfold verify`). */
  readOnly?: boolean;
  /** Receives the events of each committed append, in order (projections are rebuilt from these). */
  onCommit?: (events: RecordedEvent[]) => void;
  /**
   * Called after each committed append, with the last position now durable
   * and whether a position lies in a segment a scavenge rewrote (as far as
   * the scan has read): the index then holds the log exactly up to there, as
   * a snapshot taken at that position did (snapshot/snapshot-heads.ts).
   */
  onDurable?: (lastPosition: number, inScavenged: (position: number) => boolean) => void;
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
  /**
   * A read-only open of a store another process may be scavenging: each
   * segment keeps the handle its scan read as its reader, so the open store
   * reads exactly the files it checked (Linux keeps a file renamed over
   * readable through a handle opened before). Closed with the log.
   */
  keepReaders?: boolean;
}

type ScanFindings = Pick<RecoveryReport, 'tornTail' | 'quarantine' | 'removedFiles' | 'segmentsScanned'>;
type TornTail = NonNullable<RecoveryReport['tornTail']>;

/** Damage a segment's scan found that is not a torn last write: corruption, unless a repair cuts it. */
interface Damage {
  error: CorruptionError;
  /** Where a repair cuts the log: end of the last commit before the damage (0: the whole segment). */
  cutOffset: number;
}

/** How one segment's scan ended; the segment's `durableSize` and the index's `endOffset` are set either way but 'damaged'. */
type SegmentOutcome =
  /** Every record belongs to a committed append: the segment ends at its file's end. */
  | { kind: 'whole' }
  /** After a crash, the last write was torn or damaged and not followed by another: it was cut (the tail rule). */
  | { kind: 'torn-tail-cut'; tornTail: TornTail }
  /** Anything else wrong: corruption. */
  | { kind: 'damaged'; damage: Damage };

/** What the scan of the whole log works with, handed to its parts. */
interface LogScan {
  fs: FileSystem;
  /** The store's directory, and its `log/`. */
  dir: string;
  logDir: string;
  index: StreamIndex;
  options: ScanOptions;
}

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
  const logDir = logDirOf(dir);
  const log: LogScan = { fs, dir, logDir, index, options };
  if (!options.readOnly) await ensureDir(fs, logDir);
  const findings: ScanFindings = { tornTail: null, quarantine: null, removedFiles: [], segmentsScanned: 0 };
  const names = await fs.readdir(logDir);
  findings.removedFiles = await removeTempFiles(fs, logDir, names, options.readOnly === true);
  let segments = segmentsNamed(names);
  // Which segments a scavenge rewrote is read from each file's own header as
  // the scan reaches it (a scavenge may rename a rewritten file over a
  // segment while a read-only open runs): links only ever name earlier events.
  const bases = segments.map((segment) => segment.base);
  const inScavenged = (position: number) => {
    if (index.scavenged.size === 0 || position < 0) return false;
    return index.scavenged.has(bases[segmentHolding(bases, position)]);
  };
  const resume = options.resumeAt;
  let first = 0;
  const kept: FileHandle[] = [];
  const keep = options.keepReaders === true ? (segment: Segment, handle: FileHandle) => void kept.push((segment.reader = handle)) : undefined;
  try {
    if (resume) first = await skipCoveredSegments(log, segments, resume, keep);
    for (let i = first; i < segments.length; i++) {
      const segment = segments[i];
      findings.segmentsScanned++;
      const handle = await fs.open(`${logDir}/${segment.name}`);
      let keeping = false;
      try {
        const outcome = await scanSegment({
          handle,
          segment,
          isLast: i === segments.length - 1,
          tailRule: i === segments.length - 1,
          index,
          readOnly: options.readOnly === true,
          onCommit: options.onCommit,
          onDurable: options.onDurable,
          startOffset: resume && i === first ? resume.offset : SEGMENT_HEADER_BYTES,
          snapshot: resume?.snapshot,
          cleanPosition: options.cleanPosition,
          inScavenged,
        });
        if (outcome.kind === 'torn-tail-cut') findings.tornTail = outcome.tornTail;
        if (outcome.kind === 'damaged') {
          if (options.repair !== 'truncate' || options.readOnly) throw outcome.damage.error;
          const repair = await repairDamage(log, segments, i, handle, outcome.damage);
          findings.quarantine = repair.quarantine;
          segments = segments.slice(0, repair.cutOffset === 0 ? i : i + 1);
          break;
        }
        if (keep) {
          keep(segment, handle);
          keeping = true;
        }
      } finally {
        if (!keeping) await handle.close().catch(() => undefined);
      }
      options.onSegment?.(i + 1, segments.length);
    }
  } catch (error) {
    for (const handle of kept) await handle.close().catch(() => undefined);
    throw error;
  }
  const clean = options.cleanPosition;
  if (clean !== undefined && !findings.quarantine && index.durableCount - 1 < clean) {
    findings.quarantine = await judgeMissingAfterCleanClose(log, segments, clean);
  }
  if (!options.readOnly) segments = await startAppendableSegment(log, segments);
  for (const segment of segments) index.segmentBases.push(segment.base);
  return { segments, ...findings };
}

/** Removes the temp files a crash left in `log/` (a read-only scan only names them); returns their paths inside the store. */
async function removeTempFiles(fs: FileSystem, logDir: string, names: string[], readOnly: boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    if (!readOnly) await fs.unlink(`${logDir}/${name}`);
    removed.push(logFile(name));
  }
  if (removed.length > 0 && !readOnly) await fs.syncDir(logDir);
  return removed;
}

/** The segments among `log/`'s file names, in position order (their sizes not read yet). */
function segmentsNamed(names: string[]): Segment[] {
  return names
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: number } => s.base !== undefined)
    .sort((a, b) => a.base - b.base)
    .map((s) => ({ ...s, durableSize: 0 }));
}

/**
 * An explicit repair of the damage found in `segments[damagedIndex]`: the log
 * is cut before it (quarantine.ts), and the segment and the index end where
 * the cut is. A cut at offset 0 sets the segment aside whole.
 */
async function repairDamage(
  { fs, dir, index }: LogScan,
  segments: Segment[],
  damagedIndex: number,
  handle: FileHandle,
  damage: Damage,
): Promise<{ quarantine: ScanFindings['quarantine']; cutOffset: number }> {
  const segment = segments[damagedIndex];
  // A scavenged segment with no record left before the damage is set aside whole (one with records left
  // keeps them, and the repair rewrites its header to say where they end and how many positions it spans).
  const scavenged = index.scavenged.has(segment.base);
  const cutOffset = scavenged && damage.cutOffset === SEGMENT_HEADER_BYTES ? 0 : damage.cutOffset;
  const quarantine = await quarantineFrom(fs, dir, {
    segments,
    damagedIndex,
    handle,
    cutOffset,
    reason: damage.error.message,
    lastPosition: index.durableCount - 1,
  });
  segment.durableSize = cutOffset;
  if (cutOffset > 0) index.endOffset = cutOffset;
  if (scavenged) {
    if (cutOffset === 0) index.scavenged.delete(segment.base);
    else index.scavenged.set(segment.base, index.durableCount - segment.base);
  }
  return { quarantine, cutOffset };
}

/**
 * Nothing in the log is damaged, yet events acknowledged before the clean
 * close are gone (a segment, or the end of one, is missing): corruption, or
 * with `repair: 'truncate'` a repair that reports the loss.
 */
async function judgeMissingAfterCleanClose({ fs, dir, logDir, index, options }: LogScan, segments: Segment[], clean: number): Promise<ScanFindings['quarantine']> {
  const last = segments[segments.length - 1];
  const file = last ? logFile(last.name) : logFile('');
  const error = new CorruptionError({
    file,
    offset: last?.durableSize ?? 0,
    reason: `the store was closed cleanly at position ${clean}, but the log ends at position ${index.durableCount - 1}: acknowledged events ${index.durableCount} to ${clean} are missing`,
  });
  if (options.repair !== 'truncate' || options.readOnly) throw error;
  if (!last) {
    return { files: [], cutFile: file, cutOffset: 0, bytes: 0, records: 0, reason: error.message, lastPosition: -1, snapshotsSetAside: [], checkpointsReset: [], resumedAfterCrash: false };
  }
  // Nothing to cut, but the repair still runs as one (snapshots and checkpoints past the end are set aside), and reports the loss.
  const handle = await fs.open(`${logDir}/${last.name}`);
  try {
    return await quarantineFrom(fs, dir, {
      segments,
      damagedIndex: segments.length - 1,
      handle,
      cutOffset: last.durableSize,
      reason: error.message,
      lastPosition: index.durableCount - 1,
    });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Appends go to the last segment: when there is none, or the last one is a
 * scavenged segment (which never takes appends), a new one is created where
 * the log ends. Returns the segments with it.
 */
async function startAppendableSegment({ fs, logDir, index }: LogScan, segments: Segment[]): Promise<Segment[]> {
  const last = segments[segments.length - 1];
  // A scavenged segment never takes appends (its header fixes its span and its end). When it is the last
  // one — a repair cut the log inside it, or set aside every segment after it — appends go on in a new
  // segment where it ends (base + span), so no position it spans is ever used again. A crash before this
  // leaves the same store for the next open to finish.
  if (last && !index.scavenged.has(last.base)) return segments;
  const base = index.durableCount;
  await (await createSegment(fs, logDir, base)).close();
  index.endOffset = SEGMENT_HEADER_BYTES;
  return [...segments, { base, name: segmentName(base), durableSize: SEGMENT_HEADER_BYTES }];
}

/** A record read after the last COMMIT: it becomes durable only when its append's COMMIT record is read. */
interface PendingEvent {
  stream: string;
  version: number;
  position: number;
  offset: number;
  /** Its stream's head in the index. */
  head: StreamHead;
}

/** What scanning one segment needs to know about the rest of the log. */
interface SegmentContext {
  handle: FileHandle;
  segment: Segment;
  isLast: boolean;
  /** The tail rule may cut a torn last write: the last segment, unless a scavenge wrote it. */
  tailRule: boolean;
  index: StreamIndex;
  readOnly: boolean;
  onCommit: ((events: RecordedEvent[]) => void) | undefined;
  onDurable: ScanOptions['onDurable'];
  /** Where reading starts: just after the header, or where an earlier scan stopped. */
  startOffset: number;
  /** Names what the earlier scan was (a snapshot's file), for errors. */
  snapshot: string | undefined;
  /** Position the CLEAN marker recorded, when the last close was clean. */
  cleanPosition: number | undefined;
  /** True when a position lies in a segment a scavenge rewrote. */
  inScavenged: (position: number) => boolean;
}

/** Where one segment's scan stands, as it reads record after record. */
interface SegmentProgress {
  /** The segment's path inside the store, for errors and reports. */
  file: string;
  size: number;
  bytes: SegmentBytes;
  /** The next record's byte offset. */
  offset: number;
  /** End of the last COMMIT record: everything before it is durable. */
  lastCommitEnd: number;
  /** The write (group-commit batch) the last good record belongs to. */
  write: { start: number; bytes: number } | undefined;
  /** Records read since the last COMMIT, and their events when `onCommit` wants them. */
  pending: PendingEvent[];
  pendingEvents: RecordedEvent[];
  /** The stream of the last record taken in, and its head in the index. */
  lastStream: string | undefined;
  lastHead: StreamHead | undefined;
}

/**
 * Reads one segment record by record from `ctx.startOffset`, taking each
 * committed append into the index; says how the segment ends.
 */
async function scanSegment(ctx: SegmentContext): Promise<SegmentOutcome> {
  const { handle, segment, index, startOffset } = ctx;
  const file = logFile(segment.name);
  const size = await handle.size();
  const headerError = await checkSegmentHeader(ctx, file, size);
  if (headerError) return { kind: 'damaged', damage: { error: headerError, cutOffset: 0 } };
  // A scavenged segment holds the events a scavenge kept: positions with holes, every record its own commit,
  // its header naming where its records end (FORMAT.md, "Scavenged segment"). It never takes appends, so
  // the tail rule never applies to it: any damage in it is corruption.
  const mark = await readScavengeMark(handle, file);
  if (mark) {
    index.scavenged.set(segment.base, mark.span);
    ctx.tailRule = false;
  }

  const scan: SegmentProgress = { file, size, bytes: new SegmentBytes(handle, size), offset: startOffset, lastCommitEnd: startOffset, write: undefined, pending: [], pendingEvents: [], lastStream: undefined, lastHead: undefined };
  while (scan.offset < size) {
    // The record is checked in the bytes already read when they hold it (no promise per record), else read first.
    let check = scan.bytes.checkHeld(scan.offset);
    let rel = scan.offset - scan.bytes.start;
    if (!check) ({ check, rel } = await scan.bytes.check(scan.offset));
    if (check.kind !== 'ok') return judgeBadRecord(ctx, scan, check);
    const stop = takeRecord(ctx, scan, mark, check, rel);
    if (stop) return stop;
  }
  if (scan.pending.length > 0) return judgeUnfinishedAppend(ctx, scan);
  const cutShort = mark && scavengedSegmentCutShort(scan, mark);
  if (cutShort) return damagedAt(ctx, scan, cutShort);
  segment.durableSize = size;
  index.endOffset = size;
  if (mark) index.skipRemoved(segment.base + mark.span);
  return { kind: 'whole' };
}

/**
 * Checks the record at `scan.offset`, which passed its own checks (`check`,
 * at `rel` in the bytes' window), against the log before it (its write,
 * position, stream version and chain link) and takes it in; returns how the
 * segment ends when the record stops the scan.
 */
function takeRecord(ctx: SegmentContext, scan: SegmentProgress, mark: ScavengeMark | undefined, check: Extract<FrameCheck, { kind: 'ok' }>, rel: number): SegmentOutcome | undefined {
  const { index, onCommit } = ctx;
  const { offset, pending } = scan;
  const chunk = scan.bytes.window;
  let header: RecordHeader;
  let event: RecordedEvent | undefined;
  try {
    header = decodeHeader(chunk, rel);
    if (onCommit) event = decodeEvent(chunk, rel, check.length);
  } catch {
    return damagedAt(ctx, scan, 'record passes its checksum but cannot be decoded');
  }
  const writeProblem = joinWrite(ctx, scan, header);
  if (writeProblem) return damagedAt(ctx, scan, writeProblem);
  const nextPosition = index.durableCount + pending.length;
  // The positions a scavenge removed before this record are skipped only once the record passed every check below.
  const removedBefore = mark !== undefined && header.position > nextPosition && pending.length === 0 && header.position < ctx.segment.base + mark.span;
  if (header.position !== nextPosition && !removedBefore) {
    return damagedAt(ctx, scan, `record has position ${header.position} where position ${nextPosition} was expected (duplicate, missing or out-of-order position)`);
  }
  // Whole, valid writes after the clean close's position are kept: no damage
  // makes them, only a writer that did not see the marker (an old owner in
  // the moment before it noticed its lock had moved). Damage after it is
  // still corruption: the crash rules never apply when the marker is there.
  // Records of one stream come in runs (an append's events): the head found for the last record is reused.
  const head = header.stream === scan.lastStream ? scan.lastHead! : index.headOrCreate(header.stream);
  scan.lastStream = header.stream;
  scan.lastHead = head;
  const linkProblem = checkStreamLink(ctx, scan, header, head, mark);
  if (linkProblem) return damagedAt(ctx, scan, linkProblem);
  if (removedBefore) index.skipRemoved(header.position);
  head.pendingVersion = header.version;
  pending.push({ stream: header.stream, version: header.version, position: header.position, offset, head });
  if (event) scan.pendingEvents.push(event);
  scan.offset += FRAME_HEADER_BYTES + check.length;
  if (check.flags & FLAG_COMMIT) commitPending(ctx, scan);
  return undefined;
}

/** The record belongs to the write under way, or starts a new one after a whole append; otherwise says what is wrong. */
function joinWrite(ctx: SegmentContext, scan: SegmentProgress, header: RecordHeader): string | undefined {
  const { offset, write } = scan;
  const resuming = ctx.startOffset > SEGMENT_HEADER_BYTES;
  if (!write && resuming && offset === ctx.startOffset && header.batchStart <= offset) {
    // Resuming where an earlier scan of this process stopped (a read-only
    // store following a writer) can land inside a write whose first
    // appends it already took in: the write began before this point.
    scan.write = { start: header.batchStart, bytes: header.batchBytes };
  } else if (!write || header.batchStart !== write.start || header.batchBytes !== write.bytes) {
    // A new write begins: at this very record, and only after a whole append.
    if (header.batchStart !== offset || scan.pending.length > 0) {
      return `record claims to belong to a write that starts at byte offset ${header.batchStart}, which does not fit the records before it`;
    }
    scan.write = { start: header.batchStart, bytes: header.batchBytes };
  }
  return undefined;
}

/** The record's stream version and link to its stream's previous event follow the stream's events before it; otherwise says what is wrong. */
function checkStreamLink(ctx: SegmentContext, scan: SegmentProgress, header: RecordHeader, head: StreamHead, mark: ScavengeMark | undefined): string | undefined {
  const previous = lastPendingOf(scan.pending, header.stream) ?? head;
  const expectedPrev = head.pendingVersion < 0 ? NO_PREVIOUS : previous.position;
  // A scavenge removed the stream's events before this one: its link ends the chain, or names a removed event.
  // (A chain that begins anew in a scavenged segment may follow an event the scan still saw: a read-only open
  // can read a segment before a running scavenge rewrites it, and the next one after.)
  const earlierRemoved =
    header.prevPosition === NO_PREVIOUS
      ? mark !== undefined && header.version >= head.pendingVersion + 1
      : header.version > head.pendingVersion + 1 && header.prevPosition > expectedPrev && ctx.inScavenged(header.prevPosition);
  if (earlierRemoved) return undefined;
  if (header.version !== head.pendingVersion + 1) {
    return `event of stream "${header.stream}" has version ${header.version} where ${head.pendingVersion + 1} was expected`;
  }
  // An offset into a scavenged segment is only a hint (the segment was rewritten after the link was written).
  const offsetKnown = expectedPrev === NO_PREVIOUS || !ctx.inScavenged(expectedPrev);
  if (header.prevPosition !== expectedPrev || (offsetKnown && header.prevOffset !== previous.offset)) {
    return `event of stream "${header.stream}" links to position ${header.prevPosition} at offset ${header.prevOffset}, but its previous event is position ${expectedPrev} at offset ${previous.offset}`;
  }
  return undefined;
}

/** True when `next` is the event `count` places after `first` in its stream's run: same stream, versions and positions consecutive. */
function sameRun(first: PendingEvent, next: PendingEvent, count: number): boolean {
  return next.stream === first.stream && next.version === first.version + count && next.position === first.position + count;
}

/** A COMMIT record was read: the append it ends is durable, its events go into the index (and to `onCommit`). */
function commitPending(ctx: SegmentContext, scan: SegmentProgress): void {
  const { index, onCommit } = ctx;
  const pending = scan.pending;
  // A run of consecutive events of one stream (an append's usual shape) goes into the index in one step.
  for (let start = 0; start < pending.length; ) {
    const first = pending[start];
    let count = 1;
    while (start + count < pending.length && sameRun(first, pending[start + count], count)) count++;
    for (let i = 0; i < count; i++) runOffsets[i] = pending[start + i].offset;
    index.addDurable(first.stream, first.version, first.position, count, runOffsets, 0, first.head);
    start += count;
  }
  pending.length = 0;
  if (onCommit) {
    onCommit(scan.pendingEvents.slice());
    scan.pendingEvents.length = 0;
  }
  ctx.onDurable?.(index.durableCount - 1, ctx.inScavenged);
  scan.lastCommitEnd = scan.offset;
}

/** The segment ends after records of an append with no COMMIT: a torn last write after a crash, corruption otherwise. */
async function judgeUnfinishedAppend(ctx: SegmentContext, scan: SegmentProgress): Promise<SegmentOutcome> {
  const clean = ctx.cleanPosition !== undefined;
  if (ctx.tailRule && !clean) {
    const reason = 'the log ends in the middle of an append: its write was never completed, so never acknowledged';
    return cutTornTail(ctx, scan, { eventsDiscarded: scan.pending.length, reason });
  }
  return damagedAt(ctx, scan, ctx.isLast ? `the log ends in the middle of an append, but the store was closed cleanly at position ${ctx.cleanPosition}` : 'segment ends in the middle of an append (no commit record)');
}

/** Says how a scavenged segment whose records all passed was cut short, if it was. */
function scavengedSegmentCutShort(scan: SegmentProgress, mark: ScavengeMark): string | undefined {
  const { size, write } = scan;
  // A scavenged segment is one write from its header to its end: one that ends on a record boundary before
  // that write's end was cut short (its kept events are missing), not scavenged down to there.
  // (Its header's end, when it has one, is what counts: a repair that cut it keeps its records' write fields as they were.)
  if (mark.end === undefined && write && write.start + write.bytes !== size) {
    return `scavenged segment ends at byte offset ${size}, but its records were written up to byte offset ${write.start + write.bytes}: the segment was cut short`;
  }
  // Its header says where its kept records end: a segment cut back to a record boundary, even to its header, is still found.
  if (mark.end !== undefined && mark.end !== size) {
    return `scavenged segment ends at byte offset ${size}, but its header says its kept records end at byte offset ${mark.end}: the segment was cut short`;
  }
  return undefined;
}

/** What a segment's header says of a scavenge (undefined: never scavenged, or the header is damaged, which the scan names). */
async function readScavengeMark(handle: FileHandle, file: string): Promise<ScavengeMark | undefined> {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  if ((await handle.read(header, 0, header.length, 0)) < header.length) return undefined;
  try {
    decodeSegmentHeader(header, file);
  } catch {
    return undefined;
  }
  return scavengeMark(header);
}

/**
 * The segment's header must name the base position its file name says, and
 * (unless resuming inside it) the position right after the log before it.
 * A segment is renamed into place only after its header is fsynced, so one
 * shorter than its header is damage, never a roll a crash interrupted.
 */
async function checkSegmentHeader(ctx: SegmentContext, file: string, size: number): Promise<CorruptionError | undefined> {
  const { handle, segment, index, startOffset } = ctx;
  const resuming = startOffset > SEGMENT_HEADER_BYTES;
  if (resuming && size < startOffset) {
    throw new CorruptionError({
      file,
      offset: size,
      reason: `${ctx.snapshot} covers the log up to offset ${startOffset} of this segment (position ${index.durableCount - 1}), but the segment ends at ${size}: acknowledged events are missing from the log`,
    });
  }
  const header = Buffer.alloc(Math.min(size, SEGMENT_HEADER_BYTES));
  await handle.read(header, 0, header.length, 0);
  try {
    const base = decodeSegmentHeader(header, file);
    if (base !== segment.base) {
      return new CorruptionError({ file, offset: AT_FILE_NUMBER, reason: `header says base position ${base}, the file name says ${segment.base}` });
    }
    if (base !== index.durableCount && !resuming) {
      return new CorruptionError({
        file,
        offset: AT_FILE_NUMBER,
        reason:
          base > index.durableCount
            ? `segment starts at position ${base} but the log before it ends at position ${index.durableCount - 1}: a segment is missing`
            : `segment starts at position ${base}, overlapping events before it (expected ${index.durableCount})`,
      });
    }
  } catch (error) {
    if (error instanceof CorruptionError) return error;
    throw error;
  }
  return undefined;
}

/**
 * A record at `scan.offset` fails its checks. In a segment that is not the
 * last, or after a clean close, that is corruption. After a crash the tail
 * rule decides: the last write, torn or damaged, with no later write after
 * it, is cut; damage followed by a later write is corruption.
 */
async function judgeBadRecord(ctx: SegmentContext, scan: SegmentProgress, check: Exclude<FrameCheck, { kind: 'ok' }>): Promise<SegmentOutcome> {
  const { offset, write } = scan;
  const reason = check.kind === 'bad' ? check.reason : 'unreadable record';
  const crcs = check.kind === 'bad' ? { expectedCrc: check.expectedCrc, actualCrc: check.actualCrc } : {};
  if (!ctx.tailRule) return damagedAt(ctx, scan, `${reason} in ${ctx.isLast ? 'a scavenged segment' : 'a segment that is not the last'}`, crcs);
  if (ctx.cleanPosition !== undefined) {
    return damagedAt(ctx, scan, `${reason}; the store was closed cleanly at position ${ctx.cleanPosition}, so this is damage to acknowledged data, not a torn write`, crcs);
  }
  // After a crash: is this the last, unacknowledged write, torn?
  const insideWrite = write !== undefined && offset < write.start + write.bytes;
  const damagedWrite = insideWrite ? write.start : offset;
  let tail;
  try {
    tail = await readTailAfterDamage(scan.bytes, {
      damagedAt: offset,
      damagedWrite,
      knownWriteEnd: insideWrite ? write.start + write.bytes : undefined,
      nextPosition: ctx.index.durableCount + scan.pending.length,
    });
  } catch (error) {
    if (!(error instanceof UndecidableTail)) throw error;
    return damagedAt(ctx, scan, `${reason}; after it, a record claims a write starting at byte offset ${error.at}, inside bytes already found not to be a record: whether a later write follows the damage cannot be told without reading bytes twice (open with repair: 'truncate' to cut there)`, crcs);
  }
  if (tail.laterWriteAt !== undefined) {
    return damagedAt(ctx, scan, `${reason}, and a later write follows it at byte offset ${tail.laterWriteAt}: the damaged write was acknowledged`, crcs);
  }
  return cutTornTail(ctx, scan, {
    eventsDiscarded: scan.pending.length + tail.eventsOfDamagedWrite,
    reason: `${reason} at byte offset ${offset}, in the last write (from byte offset ${damagedWrite}), and no later write follows it: the last write was damaged or torn; it may have been acknowledged — a crash leaves no way to tell`,
  });
}

/** Corruption at `at` (default: the record being read); a repair would cut at the last commit before it. */
function damagedAt(ctx: SegmentContext, scan: SegmentProgress, reason: string, crcs: { expectedCrc?: number; actualCrc?: number } = {}, at = scan.offset): SegmentOutcome {
  discardPending(scan.pending, ctx.index);
  const error = new CorruptionError({ file: scan.file, offset: at, reason, ...crcs });
  return { kind: 'damaged', damage: { error, cutOffset: scan.lastCommitEnd } };
}

/** Where the damage the tail rule judges is. */
interface TailDamage {
  /** Byte offset of the record that failed its checks. */
  damagedAt: number;
  /** Where the write it belongs to starts (itself, when no good record of that write came before it). */
  damagedWrite: number;
  /** Where that write ends, when a good record of it said so. */
  knownWriteEnd: number | undefined;
  /** The position the damaged record should have had. */
  nextPosition: number;
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
async function readTailAfterDamage(bytes: SegmentBytes, damage: TailDamage): Promise<{ laterWriteAt?: number; eventsOfDamagedWrite: number }> {
  const { damagedAt, damagedWrite, knownWriteEnd, nextPosition } = damage;
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
async function skipCoveredSegments(
  { fs, logDir, index }: LogScan,
  segments: Segment[],
  resume: NonNullable<ScanOptions['resumeAt']>,
  keep: ((segment: Segment, handle: FileHandle) => void) | undefined,
): Promise<number> {
  const at = segments.findIndex((s) => s.base === resume.segmentBase);
  const listed = segments.slice(0, Math.max(at, 0)).map((s) => s.base);
  const expected = resume.segmentBases.filter((base) => base < resume.segmentBase);
  const missing = at < 0 ? resume.segmentBase : expected.find((base) => !listed.includes(base));
  if (missing !== undefined) {
    throw new CorruptionError({
      file: logFile(segmentName(missing)),
      offset: 0,
      reason: `${resume.snapshot} covers the log up to position ${resume.position}, but segment ${segmentName(missing)} is missing: acknowledged events are missing from the log`,
    });
  }
  for (const segment of segments.slice(0, at)) {
    const handle = await fs.open(`${logDir}/${segment.name}`);
    let keeping = false;
    try {
      segment.durableSize = await handle.size();
      // Readers jump over the positions a scavenge removed, so a scavenged segment must be whole before
      // they may: its header must pass its checks (it says whether the segment was scavenged) and its size
      // must be where the header says its kept records end (the rest waits for the background check,
      // which reads every record).
      const header = Buffer.alloc(Math.min(SEGMENT_HEADER_BYTES, segment.durableSize));
      await handle.read(header, 0, header.length, 0);
      decodeSegmentHeader(header, logFile(segment.name));
      const mark = scavengeMark(header);
      if (mark) {
        index.scavenged.set(segment.base, mark.span);
        if (mark.end !== undefined && mark.end !== segment.durableSize) {
          throw new CorruptionError({
            file: logFile(segment.name),
            offset: Math.min(mark.end, segment.durableSize),
            reason: `scavenged segment ends at byte offset ${segment.durableSize}, but its header says its kept records end at byte offset ${mark.end}: the segment was cut short or added to`,
          });
        }
      }
      if (keep) {
        keep(segment, handle);
        keeping = true;
      }
    } finally {
      if (!keeping) await handle.close().catch(() => undefined);
    }
  }
  return at;
}

function lastPendingOf(pending: PendingEvent[], stream: string): PendingEvent | undefined {
  for (let i = pending.length - 1; i >= 0; i--) if (pending[i].stream === stream) return pending[i];
  return undefined;
}

/**
 * Cuts the last write off the segment after a crash: every byte after the
 * last commit goes, synced before anything new is written (a read-only scan
 * only reports it).
 */
async function cutTornTail(ctx: SegmentContext, scan: SegmentProgress, cut: { eventsDiscarded: number; reason: string }): Promise<SegmentOutcome> {
  const { lastCommitEnd, size, file } = scan;
  discardPending(scan.pending, ctx.index);
  if (!ctx.readOnly) {
    await ctx.handle.truncate(lastCommitEnd);
    await ctx.handle.datasync();
  }
  ctx.segment.durableSize = lastCommitEnd;
  ctx.index.endOffset = lastCommitEnd;
  return { kind: 'torn-tail-cut', tornTail: { file, offset: lastCommitEnd, bytesTruncated: size - lastCommitEnd, eventsDiscarded: cut.eventsDiscarded, reason: cut.reason } };
}

/** Forgets events read after the last commit: their append never completed. */
function discardPending(pending: PendingEvent[], index: StreamIndex): void {
  for (const p of pending) {
    const head = index.headOrCreate(p.stream);
    head.pendingVersion = head.version;
    if (head.version < 0) index.streams.delete(p.stream);
  }
}

/** The byte offsets of a run's records, for StreamIndex.addDurable (reused: it reads them before it returns). */
const runOffsets: number[] = [];
