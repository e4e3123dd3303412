import { writeFileDurably } from '../fs/write-file-durably';
import type { FileSystem } from '../fs/file-system';
import { AT_BATCH_BYTES, AT_BATCH_START, AT_FLAGS, AT_HEADER_CRC, AT_PREV_OFFSET, AT_PREV_POSITION, AT_TIMESTAMP, decodeEvent, decodeHeader, FLAG_COMMIT, FRAME_HEADER_BYTES, headerCrcOf, NO_PREVIOUS, writeU64, type RecordedEvent } from '../log/record';
import { reframeRecord } from './erase-record';
import { isSystemStream } from './stream-metadata';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment } from '../log/segmented-log';
import { segmentRecords } from './segment-records';
import { listSnapshots } from '../snapshot/snapshots';
import { snapshotDirOf } from '../store-layout';
import type { ScavengeProgress, ScavengeResult } from '../log-reports';

/**
 * Scavenge: rewrites sealed segments without the events that retention and
 * deletion removed, so the disk space comes back and the bytes are gone.
 * The on-disk result is described in src/log/FORMAT.md ("Scavenged segment").
 *
 * Per segment, in position order (never the last segment, which takes appends):
 * 1. read it, checking every record, and keep each event its stream still
 *    keeps. What is removed is always a prefix of a stream's events on disk:
 *    once one event of a stream is kept, every later one is kept in this run.
 * 2. write the kept records, byte for byte except their links and write
 *    fields (re-checksummed header), to `<segment>.scavenged.tmp`, fdatasync.
 *    A record of the store's own streams that nothing reads any more (a
 *    superseded `$metadata`, see `redact`) is kept in its place with its
 *    type and data replaced, so that what it held leaves the disk too.
 * 3. commit: rename it over the segment, fsync `log/` (the first commit of a
 *    run removes every snapshot before, see removeSnapshots). A power cut before the
 *    rename leaves the segment as it was (the temp file is removed by the next
 *    open); after it, the new one. The rename is the commit point.
 * Positions and every kept event's bytes (id, timestamp, data, metadata)
 * never change; positions are never reused.
 */

/** What the scavenge needs from the open store. */
export interface ScavengeHost {
  fs: FileSystem;
  logDir: string;
  /** The log's segments, the last one being the one appended to. */
  segments: Segment[];
  read(segment: Segment, offset: number, length: number): Promise<Buffer>;
  /** True for an event that retention or deletion removed. */
  removed(stream: string, version: number, timestamp: number): boolean;
  /** For a record of the store's own streams: the type and data it is rewritten with (see erase-record.ts), or null to keep it as it is. */
  redact?(event: RecordedEvent): { type: string; data: unknown } | null;
  /**
   * Changes whenever a lifecycle change (retention, deletion) is applied
   * (absent: the retention never changes during a scavenge). With
   * `retentionChangedSince`: a segment is judged again when the lifecycle
   * of a stream it removes events of changed after it was judged (only a
   * change can bring them back; what it keeps a later scavenge removes, and
   * an erased record stays erasable).
   */
  retentionVersion?(): number;
  retentionChangedSince?(stream: string, version: number): boolean;
  /**
   * Puts the rewritten segment in place of the old one (under the store's
   * backup exclusion): `steps.write()` writes and fsyncs the temp file; then,
   * while no lifecycle change can be acknowledged, `stillJudged()` says
   * whether the judgement of the segment still holds — if so `steps.rename()`
   * is the commit point, then `steps.syncDir()`; if not, `steps.discard()`
   * and it resolves false (the segment is judged again). `places`: every
   * kept record's position and offset.
   */
  commit(index: number, steps: RewriteSteps, rewritten: Segment, span: number, places: Array<{ position: number; offset: number }>, stillJudged: () => boolean): Promise<boolean>;
  /** True once the store is closing: the scavenge stops between segments. */
  stopping(): boolean;
}

/** The disk calls that put one rewritten segment in place, in order (see ScavengeHost.commit). */
export interface RewriteSteps {
  write(): Promise<void>;
  rename(): Promise<void>;
  syncDir(): Promise<void>;
  discard(): Promise<void>;
}

/** `store.scavenge(options)`. */
export interface ScavengeOptions {
  /** Called after each segment (file log) or each batch of deleted rows and each stream (PostgreSQL). */
  onProgress?: (progress: ScavengeProgress) => void;
  /**
   * PostgreSQL: also rewrite the events table (VACUUM FULL) so the removed
   * events' bytes are in none of its files, and its space goes back to the
   * operating system; appends and reads wait while it runs. The file log
   * always rewrites what it scavenges: there it changes nothing.
   */
  erase?: boolean;
}

export async function scavengeSegments(host: ScavengeHost, onProgress?: (progress: ScavengeProgress) => void): Promise<ScavengeResult> {
  const started = performance.now();
  // Sealed now: appends only ever go to the last segment.
  const sealed = host.segments.length - 1;
  const result: ScavengeResult = { segmentsDone: 0, segmentsTotal: Math.max(0, sealed), bytesBefore: 0, bytesAfter: 0, eventsRemoved: 0, segmentsRewritten: 0, quarantinedRecordsZeroed: 0, metadataRecordsErased: 0, durationMs: 0 };
  /** Streams whose kept events began in this run (nothing more of them is removed), and those that lost events in it. */
  let keeping = new Set<string>();
  let removing = new Set<string>();
  for (let i = 0; i < sealed && !host.stopping(); i++) {
    const segment = host.segments[i];
    const span = host.segments[i + 1].base - segment.base;
    result.bytesBefore += segment.durableSize;
    for (;;) {
      // Judged under the retention as it is now; a lifecycle change applied before the commit makes it judge again.
      const judgedUnder = host.retentionVersion?.();
      const judged = await judgeSegment(host, segment, keeping, removing);
      if (judged.removed === 0 && judged.erased === 0) {
        result.bytesAfter += segment.durableSize;
        ({ keeping, removing } = judged);
        break;
      }
      const { file, places } = rewrite(segment, span, judged.kept);
      const tmp = `${host.logDir}/${segment.name}.scavenged.tmp`;
      const rewritten: Segment = { base: segment.base, name: segment.name, durableSize: file.length };
      const steps: RewriteSteps = {
        write: async () => {
          if (await host.fs.exists(tmp)) await host.fs.unlink(tmp);
          await writeFileDurably(host.fs, tmp, file);
        },
        rename: () => host.fs.rename(tmp, `${host.logDir}/${segment.name}`),
        syncDir: () => host.fs.syncDir(host.logDir),
        discard: () => host.fs.unlink(tmp),
      };
      const stillJudged = () => judgedUnder === undefined || ![...judged.removedStreams].some((stream) => host.retentionChangedSince?.(stream, judgedUnder) ?? host.retentionVersion?.() !== judgedUnder);
      if (!(await host.commit(i, steps, rewritten, span, places, stillJudged))) continue;
      ({ keeping, removing } = judged);
      result.eventsRemoved += judged.removed;
      result.metadataRecordsErased! += judged.erased;
      result.segmentsRewritten++;
      result.bytesAfter += file.length;
      break;
    }
    result.segmentsDone++;
    onProgress?.({ segmentsDone: result.segmentsDone, segmentsTotal: result.segmentsTotal, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter, eventsRemoved: result.eventsRemoved });
  }
  result.durationMs = performance.now() - started;
  return result;
}

/**
 * One segment judged record by record: what is kept (erased records
 * rewritten), how many are removed and erased, and the run's sets after it
 * (new sets: the run's own stay as they were until the segment is committed).
 */
async function judgeSegment(host: ScavengeHost, segment: Segment, keptBefore: Set<string>, removedBefore: Set<string>) {
  const keeping = new Set(keptBefore);
  const removing = new Set(removedBefore);
  const kept: KeptRecord[] = [];
  /** The streams this segment removes events of. */
  const removedStreams = new Set<string>();
  let removed = 0;
  let erased = 0;
  for await (const record of segmentRecords(segment, (offset, length) => host.read(segment, offset, length))) {
    const { bytes } = record;
    const { stream, version } = decodeHeader(bytes, 0);
    const timestamp = bytes.readDoubleLE(AT_TIMESTAMP);
    if (!keeping.has(stream) && host.removed(stream, version, timestamp)) {
      removing.add(stream);
      removedStreams.add(stream);
      removed++;
      continue;
    }
    const replacement = host.redact && isSystemStream(stream) ? host.redact(decodeEvent(bytes, 0, bytes.length - FRAME_HEADER_BYTES)) : null;
    if (replacement) erased++;
    // Its previous event was removed in this run when none of its stream was kept before it.
    kept.push({ bytes: replacement ? reframeRecord(bytes, replacement.type, replacement.data) : Buffer.from(bytes), previousRemoved: !keeping.has(stream) && removing.has(stream) });
    keeping.add(stream);
  }
  return { kept, removed, erased, keeping, removing, removedStreams };
}

/** A record a scavenge keeps, as read from the segment it rewrites. */
interface KeptRecord {
  bytes: Buffer;
  /** The stream's previous event was removed in this run: this one now begins its chain. */
  previousRemoved: boolean;
}

/**
 * The scavenged segment's bytes: its header (flagged, with the positions it
 * spans), then the kept records with their links and write fields redone.
 */
function rewrite(segment: Segment, span: number, kept: KeptRecord[]): { file: Buffer; places: Array<{ position: number; offset: number }> } {
  let total = 0;
  for (const { bytes } of kept) total += bytes.length;
  const file = Buffer.alloc(SEGMENT_HEADER_BYTES + total);
  encodeSegmentHeader(segment.base, { span, end: file.length }).copy(file, 0);
  /** Each stream's last kept record in this segment: where its next one links. */
  const lastKept = new Map<string, { position: number; offset: number }>();
  const places: Array<{ position: number; offset: number }> = [];
  let at = SEGMENT_HEADER_BYTES;
  for (const { bytes: record, previousRemoved } of kept) {
    record.copy(file, at);
    const { stream, position, prevPosition, prevOffset } = decodeHeader(record, 0);
    const previous = lastKept.get(stream);
    let link: { position: number; offset: number };
    if (previous) link = previous;
    else if (prevPosition === NO_PREVIOUS || previousRemoved) link = { position: NO_PREVIOUS, offset: 0 };
    // In an earlier segment (kept there, or removed by an earlier scavenge): the link stays; its offset is a hint if that segment was rewritten.
    else link = { position: prevPosition, offset: prevOffset };
    writeU64(file, link.position + 1, at + AT_PREV_POSITION);
    file.writeUInt32LE(link.offset, at + AT_PREV_OFFSET);
    // The whole segment is one write, each record its own commit: every event in it was acknowledged long ago.
    file[at + AT_FLAGS] |= FLAG_COMMIT;
    file.writeUInt32LE(SEGMENT_HEADER_BYTES, at + AT_BATCH_START);
    file.writeUInt32LE(total, at + AT_BATCH_BYTES);
    file.writeUInt32LE(headerCrcOf(file, at), at + AT_HEADER_CRC);
    lastKept.set(stream, { position, offset: at });
    places.push({ position, offset: at });
    at += record.length;
  }
  return { file, places };
}

/**
 * Before a scavenge puts its first rewritten segment in place: every
 * snapshot is removed (and `snapshots/` fsynced). A snapshot records byte
 * offsets of the segments it covers (its log end, stream heads), which a
 * rewrite changes, and its projection states may hold what was folded from
 * removed events; without one the next open replays the log, which no
 * longer holds them, and so rebuilds every projection from the events kept.
 * Removed first, there is no crash point (nor a moment a backup could copy)
 * at which a snapshot outlives the segments it describes.
 */
export async function removeSnapshots(fs: FileSystem, dir: string): Promise<void> {
  const names = await listSnapshots(fs, dir);
  for (const name of names) await fs.unlink(`${snapshotDirOf(dir)}/${name}`);
  if (names.length > 0) await fs.syncDir(snapshotDirOf(dir));
}
