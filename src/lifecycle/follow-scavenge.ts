import { CorruptionError } from '../errors';
import type { FileHandle, FileSystem } from '../fs/file-system';
import { decodeSegmentHeader, scavengeMark, SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { Segment, SegmentedLog } from '../log/segmented-log';
import type { StreamIndex } from '../log/stream-index';
import { logFile } from '../store-layout';
import { segmentRecords } from './segment-records';

/** What the follower needs of the read-only store it works for. */
export interface FollowHost {
  fs: FileSystem;
  logDir: string;
  log: SegmentedLog;
  index: StreamIndex;
}

/** Every segment this often at most, by name (see ScavengeFollower). */
const CHECK_ALL_EVERY_MS = 1000;

/**
 * A read-only store beside a writer that scavenges. The writer renames
 * rewritten files over sealed segments while the reader has the store open;
 * the reader's index names byte offsets in the files it read. So:
 *
 * - it reads only the files it read: it holds a reader open on every
 *   segment (`pin`, after the open and after every refresh), and checks each
 *   file it pins against what it knows of the segment;
 * - before a refresh, the segment it resumes reading from is looked at by
 *   name (its scan resumes at an offset of the file it read), and at most
 *   once a second every segment is (the old file's disk space comes back
 *   only when the reader lets go of it);
 * - a file a scavenge put in place is taken in: the reader uses it from
 *   then on and finds events in it by position (as the writer does after its
 *   own scavenge), and reads under way finish on the old one.
 *
 * A segment was rewritten when its file's header says SCAVENGED and the
 * reader did not know it as scavenged, or knew it so with another size (a
 * rewrite always removes records; a sealed segment's size never changes
 * otherwise).
 */
export class ScavengeFollower {
  private lastFullCheck = -Infinity;

  constructor(private readonly host: FollowHost) {}

  /** Opens a reader on every segment that has none, taking in a rewritten file found that way. */
  async pin(): Promise<void> {
    const { log } = this.host;
    for (let i = 0; i < log.segments.length; i++) {
      const segment = log.segments[i];
      if (segment.reader) continue;
      await log.readSegment(segment, 0, 0);
      if (segment.reader) await this.takeIn(i, segment.reader, false);
    }
  }

  /** Before a refresh: the segment it resumes from, and every segment once a second, looked at by name. */
  async check(now: number): Promise<void> {
    const { log } = this.host;
    const all = now - this.lastFullCheck >= CHECK_ALL_EVERY_MS;
    if (all) this.lastFullCheck = now;
    for (let i = all ? 0 : log.segments.length - 1; i < log.segments.length; i++) {
      const handle = await this.host.fs.open(`${this.host.logDir}/${log.segments[i].name}`);
      if (!(await this.takeIn(i, handle, true))) await handle.close();
    }
  }

  /**
   * Takes in `handle`'s file as segment `i` when it is a rewrite of what the
   * reader knows (resolves true: the handle is the segment's reader now).
   * `byName`: the handle was opened by name, beside the pinned reader.
   */
  private async takeIn(i: number, handle: FileHandle, byName: boolean): Promise<boolean> {
    const { log, index } = this.host;
    const known = log.segments[i];
    const size = await handle.size();
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    if ((await handle.read(header, 0, header.length, 0)) < header.length) return false;
    try {
      decodeSegmentHeader(header, logFile(known.name));
    } catch {
      return false; // Damage is the reads' and verification's to name, not a rewrite.
    }
    const span = scavengeMark(header)?.span;
    const knownSpan = index.scavenged.get(known.base);
    if (span === undefined || (knownSpan !== undefined && size === known.durableSize)) return false;
    const isLast = i === log.segments.length - 1;
    const rewritten: Segment = { base: known.base, name: known.name, durableSize: size };
    // Pinned just now through the old object (not by name): that reader is the new file's, not one to retire.
    if (!byName) known.reader = undefined;
    log.replaceSegment(i, rewritten);
    rewritten.reader = handle;
    index.scavenged.set(known.base, span);
    if (isLast) index.endOffset = await this.firstOffsetAfter(rewritten, index.durableCount - 1);
    return true;
  }

  /** Byte offset of the first record past `position` in a rewritten segment (its size when none): where reading resumes. */
  private async firstOffsetAfter(segment: Segment, position: number): Promise<number> {
    for await (const record of segmentRecords(segment, (offset, length) => this.host.log.readSegment(segment, offset, length))) {
      if (record.position > position) return record.offset;
    }
    return segment.durableSize;
  }
}

/** True when `error` is the one a refresh meets when a scavenge replaced `segment`'s file after it was looked at: the scan resumed at an offset of the old file. */
export function rewrittenUnderResume(error: unknown, segment: Segment): boolean {
  return error instanceof CorruptionError && error.file === logFile(segment.name);
}
