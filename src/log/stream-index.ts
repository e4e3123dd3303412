import { NO_PREVIOUS } from './record';
import { SEGMENT_HEADER_BYTES } from './segment-file';

/** One stream's place in the index. */
export interface StreamHead {
  /** Last durable version, -1 before the first event is durable. */
  version: number;
  /** Last version taken by an accepted append (durable or still queued). */
  pendingVersion: number;
  /** Global position of the last durable event, NO_PREVIOUS before it. */
  position: number;
  /** Byte offset of that event inside its segment. */
  offset: number;
}

export interface EventPlace {
  position: number;
  offset: number;
}

export const SPARSE_EVERY = 256;

/**
 * Each stream's head by name, as a Map of StreamHead objects would hold
 * them (get, set, delete, iteration in insertion order), but the heads a
 * snapshot brings (a million streams and more) are kept as that snapshot's
 * columns, and a stream's head object is made only when `get` first asks for
 * it: an open from a snapshot builds one Map entry per stream (a number),
 * not one object as well (half the time of such an open, and the garbage
 * collection after it). A head that `get` returned is the stream's own: the
 * index's writers change it in place. Iteration hands out the heads not yet
 * asked for as fresh objects, for reading only (the callers only read them).
 */
export class StreamHeads implements Iterable<[string, StreamHead]> {
  /** A stream's head, or its row in the snapshot's columns. */
  private readonly heads = new Map<string, StreamHead | number>();
  private versions: readonly number[] = [];
  private positions: readonly number[] = [];
  private offsets: readonly number[] = [];

  /** Takes a snapshot's heads (parallel arrays, kept as they are), before any other head is set. */
  seed(names: readonly string[], versions: readonly number[], positions: readonly number[], offsets: readonly number[]): void {
    this.versions = versions;
    this.positions = positions;
    this.offsets = offsets;
    for (let i = 0; i < names.length; i++) this.heads.set(names[i], i);
  }

  get size(): number {
    return this.heads.size;
  }

  get(stream: string): StreamHead | undefined {
    const found = this.heads.get(stream);
    if (typeof found !== 'number') return found;
    const head = this.row(found);
    this.heads.set(stream, head);
    return head;
  }

  set(stream: string, head: StreamHead): this {
    this.heads.set(stream, head);
    return this;
  }

  delete(stream: string): boolean {
    return this.heads.delete(stream);
  }

  *[Symbol.iterator](): IterableIterator<[string, StreamHead]> {
    for (const [stream, found] of this.heads) yield [stream, typeof found === 'number' ? this.row(found) : found];
  }

  private row(i: number): StreamHead {
    const version = this.versions[i];
    return { version, pendingVersion: version, position: this.positions[i], offset: this.offsets[i] };
  }
}

/**
 * Where durable events are, in memory that grows with the number of streams
 * and of segments, never with the number of events:
 *
 * - per stream, its last version and the place (position, byte offset) of its
 *   last event. Every record links to the previous event of its stream, so
 *   `readStream` follows that chain back from the head: it reads only the
 *   stream's own records, never scans the log.
 * - a sparse global index: the byte offset of every SPARSE_EVERY-th position,
 *   so `readAll({ from })` starts at most SPARSE_EVERY records early.
 * - the base position of each segment.
 *
 * It is saved whole in snapshots, and rebuilt by the log scan otherwise.
 */
export class StreamIndex {
  readonly streams = new StreamHeads();
  /** Offset inside its segment of position k × SPARSE_EVERY, by k. */
  readonly sparseOffsets: number[] = [];
  /** Base position of each segment, ascending. */
  readonly segmentBases: number[] = [];
  /** Number of durable events = next global position. */
  durableCount = 0;
  /**
   * Segments rewritten by a scavenge, by base position, with the positions
   * each spans. Their records' positions have holes (removed events), and
   * their byte offsets changed: a place in one is found by its position
   * (lifecycle/scavenged-segments.ts), never by an offset from a link.
   */
  readonly scavenged = new Map<number, number>();
  /** Byte offset just after the last durable record, in the segment that holds it. */
  endOffset = SEGMENT_HEADER_BYTES;

  /** The stream's head, created (a stream without events yet) when the index has none. */
  headOrCreate(stream: string): StreamHead {
    let head = this.streams.get(stream);
    if (!head) {
      head = { version: -1, pendingVersion: -1, position: NO_PREVIOUS, offset: 0 };
      this.streams.set(stream, head);
    }
    return head;
  }

  /** The stream's last durable event, which its next record links to. */
  head(stream: string): EventPlace {
    const entry = this.streams.get(stream);
    return entry ? { position: entry.position, offset: entry.offset } : { position: NO_PREVIOUS, offset: 0 };
  }

  /**
   * Records a durable run of consecutive events of one stream, called in
   * position order: `offsetOf(i)` is the byte offset of its i-th event.
   */
  addDurable(stream: string, firstVersion: number, firstPosition: number, count: number, offsetOf: (i: number) => number): void {
    const head = this.headOrCreate(stream);
    const lastVersion = firstVersion + count - 1;
    head.version = lastVersion;
    if (head.pendingVersion < lastVersion) head.pendingVersion = lastVersion;
    head.position = firstPosition + count - 1;
    head.offset = offsetOf(count - 1);
    const firstSparse = Math.ceil(firstPosition / SPARSE_EVERY) * SPARSE_EVERY;
    for (let p = firstSparse; p < firstPosition + count; p += SPARSE_EVERY) {
      this.sparseOffsets[p / SPARSE_EVERY] = offsetOf(p - firstPosition);
    }
    this.durableCount = firstPosition + count;
  }

  /**
   * Positions up to `position` (exclusive) are taken by events a scavenge
   * removed: the next durable event is at `position` or later.
   */
  skipRemoved(position: number): void {
    if (position <= this.durableCount) return;
    // Sparse entries stay dense (snapshots store them as an array); a scavenged segment's are not used.
    for (let p = Math.ceil(this.durableCount / SPARSE_EVERY) * SPARSE_EVERY; p < position; p += SPARSE_EVERY) {
      this.sparseOffsets[p / SPARSE_EVERY] = SEGMENT_HEADER_BYTES;
    }
    this.durableCount = position;
  }

  /** True when `position` lies in a segment a scavenge rewrote. */
  inScavengedSegment(position: number): boolean {
    return this.scavenged.size > 0 && this.scavenged.has(this.segmentBases[this.segmentOf(position)]);
  }

  /** Index of the segment that holds `position`. */
  segmentOf(position: number): number {
    return segmentHolding(this.segmentBases, position);
  }

  /** A known record at or before `position`, in the same segment, to read forward from. */
  seek(position: number): { segment: number; position: number; offset: number } {
    const segment = this.segmentOf(position);
    const base = this.segmentBases[segment];
    const k = Math.floor(position / SPARSE_EVERY);
    // A scavenged segment is read from its start: its sparse entries name no record.
    if (!this.scavenged.has(base) && k * SPARSE_EVERY >= base && k < this.sparseOffsets.length) {
      return { segment, position: k * SPARSE_EVERY, offset: this.sparseOffsets[k] };
    }
    return { segment, position: base, offset: SEGMENT_HEADER_BYTES };
  }
}

/** Index of the segment that holds `position`, given the segments' base positions in ascending order. */
export function segmentHolding(bases: readonly number[], position: number): number {
  let lo = 0;
  let hi = bases.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bases[mid] <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
