import type { FileSystem } from '../fs/file-system';
import type { RecordedEvent } from '../log/record';
import { SEGMENT_HEADER_BYTES } from '../log/segment-file';
import type { SegmentedLog } from '../log/segmented-log';
import { SPARSE_EVERY, StreamIndex, type StreamHead } from '../log/stream-index';
import { scanLog } from './scan-log';

/**
 * How a read-only store sees what a writer appended since it last looked: it
 * scans the log from its known end with the same checks as recovery (CRC,
 * positions, versions, stream links, COMMIT) and takes in the appends that are
 * complete and committed. A torn or in-progress append is left for next time.
 *
 * The scan fills an overlay of the index, never the index itself, and the
 * result is merged in one synchronous step: readers iterating meanwhile never
 * see an index that runs ahead of the segments they can read.
 * Returns the number of events taken in.
 */
export async function readNewAppends(
  fs: FileSystem,
  dir: string,
  index: StreamIndex,
  log: SegmentedLog,
  onCommit?: (events: RecordedEvent[]) => void,
): Promise<number> {
  const overlay = new IndexOverlay(index);
  const last = log.segments[log.segments.length - 1];
  const resumeAt = last
    ? { snapshot: 'the part of the log already read', position: index.durableCount - 1, segmentBase: last.base, offset: index.endOffset, segmentBases: index.segmentBases.slice() }
    : undefined;
  const scan = await scanLog(fs, dir, overlay, { repair: 'none', readOnly: true, resumeAt, onCommit });
  const added = overlay.durableCount - index.durableCount;
  // From here to the end: synchronous, so nothing reads a half-merged index.
  for (const found of scan.segments) {
    const known = log.segments.find((s) => s.base === found.base);
    if (!known) log.segments.push(found);
    else if (found.durableSize > known.durableSize) known.durableSize = found.durableSize;
  }
  for (const [name, head] of overlay.streams) index.streams.set(name, head);
  index.sparseOffsets.copyFrom(overlay.sparseOffsets);
  index.segmentBases.splice(0, index.segmentBases.length, ...overlay.segmentBases);
  index.durableCount = overlay.durableCount;
  index.endOffset = Math.max(overlay.endOffset, SEGMENT_HEADER_BYTES);
  return added;
}

/** An index that reads through to `base` and keeps every change to itself until merged. */
class IndexOverlay extends StreamIndex {
  constructor(private readonly base: StreamIndex) {
    super();
    this.durableCount = base.durableCount;
    this.endOffset = base.endOffset;
    // It sets only the offsets of the events it reads, after the base's.
    this.sparseOffsets.startAt(Math.ceil(base.durableCount / SPARSE_EVERY));
  }

  override headOrCreate(stream: string): StreamHead {
    const mine = this.streams.get(stream);
    if (mine) return mine;
    const theirs = this.base.streams.get(stream);
    if (!theirs) return super.headOrCreate(stream);
    const copy = { ...theirs };
    this.streams.set(stream, copy);
    return copy;
  }
}
