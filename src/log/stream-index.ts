import { NO_PREVIOUS } from './record';
import { SEGMENT_HEADER_BYTES } from './segment-file';
import { StreamNameTable, type StoredNameTable } from './stream-name-table';

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

/** The heads a snapshot brings, as it stores them: the names' UTF-8 one after the other, and per stream a row of each column. */
export interface StreamColumns {
  nameBytes: Uint8Array;
  /** Where each name's bytes end in nameBytes (the next one starts there). */
  nameEnds: Uint32Array;
  versions: Float64Array;
  positions: Float64Array;
  /** Offsets inside a segment are 32-bit (src/log/FORMAT.md). */
  offsets: Uint32Array;
  /** The hash table over the names (absent in snapshots before version 4: the open hashes them). */
  table?: StoredNameTable;
}

/** The columns with the hash table over their names, as a snapshot stores them (the names hashed now: main-thread work of ≈ 70 ms per million streams). */
export function withNameTable(columns: StreamColumns): StreamColumns {
  const table = new StreamNameTable(columns.nameBytes, columns.nameEnds);
  return { ...columns, table: { basis: table.basis, slots: table.slots } };
}

const IN_COLUMNS = 0;
const ASKED_FOR = 1;
const GONE = 2;

/**
 * Each stream's head by name, as a Map of StreamHead objects would hold
 * them (get, set, delete, iteration in insertion order), but the heads a
 * snapshot brings (a million streams and more) stay in that snapshot's
 * columns, found by name through a hash table over the names' bytes
 * (StreamNameTable): an open from a snapshot makes no object, string or
 * `Map` entry per stream. A stream's head object is made when `get` first
 * asks for it, and is the stream's own from then on: the index's writers
 * change it in place. Streams that are not in the snapshot (made after it)
 * live in a Map beside it. Iteration hands out the heads not yet asked for
 * as fresh objects, for reading only (the callers only read them).
 */
export class StreamHeads implements Iterable<[string, StreamHead]> {
  private table = new StreamNameTable(new Uint8Array(0), new Uint32Array(0));
  private columns: Omit<StreamColumns, 'nameBytes' | 'nameEnds'> = { versions: new Float64Array(0), positions: new Float64Array(0), offsets: new Uint32Array(0) };
  /** Per row of the table: IN_COLUMNS, ASKED_FOR (its head is in `asked`), or GONE (deleted). */
  private rowState = new Uint8Array(0);
  private gone = 0;
  /** The heads of the table's streams that `get` asked for, by name, and by row (for iteration and snapshots; an array made at the first ask). */
  private readonly asked = new Map<string, StreamHead>();
  private askedByRow: Array<StreamHead | undefined> = [];
  /** Streams that are not (or no longer) rows of the table, in insertion order. */
  private readonly added = new Map<string, StreamHead>();
  /** The last name `get` found no row for: the `set` of a new stream that follows needs no second look (rows never change names). */
  private notInTable: string | undefined;

  /** Takes a snapshot's heads (columns kept as they are), before any other head is set. */
  seed(columns: StreamColumns): void {
    this.table = new StreamNameTable(columns.nameBytes, columns.nameEnds, columns.table);
    this.columns = columns;
    this.rowState = new Uint8Array(columns.nameEnds.length);
  }

  get size(): number {
    return this.table.count - this.gone + this.added.size;
  }

  get(stream: string): StreamHead | undefined {
    const head = this.asked.get(stream) ?? this.added.get(stream);
    if (head !== undefined || this.table.count === 0) return head;
    const row = this.table.find(stream);
    if (row < 0) this.notInTable = stream;
    if (row < 0 || this.rowState[row] !== IN_COLUMNS) return undefined;
    return this.ask(stream, row, this.row(row));
  }

  set(stream: string, head: StreamHead): this {
    if (this.added.has(stream)) {
      this.added.set(stream, head);
      return this;
    }
    const row = this.rowOf(stream);
    if (row >= 0 && this.rowState[row] !== GONE) this.ask(stream, row, head);
    else this.added.set(stream, head);
    return this;
  }

  delete(stream: string): boolean {
    if (this.added.delete(stream)) return true;
    const row = this.rowOf(stream);
    if (row < 0 || this.rowState[row] === GONE) return false;
    this.rowState[row] = GONE;
    this.gone++;
    this.asked.delete(stream);
    if (this.askedByRow.length > 0) this.askedByRow[row] = undefined;
    return true;
  }

  *[Symbol.iterator](): IterableIterator<[string, StreamHead]> {
    for (let row = 0; row < this.table.count; row++) {
      const state = this.rowState[row];
      if (state === IN_COLUMNS) yield [this.table.nameOf(row), this.row(row)];
      else if (state === ASKED_FOR) yield [this.table.nameOf(row), this.askedByRow[row]!];
    }
    yield* this.added;
  }

  /**
   * The heads of the streams with a durable event (version ≥ 0), in
   * iteration order, as a snapshot stores them: the names of the table's
   * rows are copied as bytes, never made strings.
   */
  toColumns(): StreamColumns {
    const rows: number[] = [];
    const heads: StreamHead[] = [];
    const names: string[] = [];
    let total = 0;
    for (let row = 0; row < this.table.count; row++) {
      const state = this.rowState[row];
      if (state === GONE || (state === ASKED_FOR ? this.askedByRow[row]!.version : this.columns.versions[row]) < 0) continue;
      rows.push(row);
      total += this.table.nameBytes(row);
    }
    for (const [name, head] of this.added) {
      if (head.version < 0) continue;
      names.push(name);
      heads.push(head);
      total += Buffer.byteLength(name);
    }
    const count = rows.length + names.length;
    const columns: StreamColumns = {
      nameBytes: new Uint8Array(total),
      nameEnds: new Uint32Array(count),
      versions: new Float64Array(count),
      positions: new Float64Array(count),
      offsets: new Uint32Array(count),
    };
    const text = Buffer.from(columns.nameBytes.buffer, 0, total);
    let at = 0;
    const put = (i: number, version: number, position: number, offset: number) => {
      columns.nameEnds[i] = at;
      columns.versions[i] = version;
      columns.positions[i] = position;
      columns.offsets[i] = offset;
    };
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      at = this.table.copyName(row, columns.nameBytes, at);
      const head = this.rowState[row] === ASKED_FOR ? this.askedByRow[row]! : undefined;
      if (head) put(i, head.version, head.position, head.offset);
      else put(i, this.columns.versions[row], this.columns.positions[row], this.columns.offsets[row]);
    }
    for (let j = 0; j < names.length; j++) {
      at += text.write(names[j], at);
      put(rows.length + j, heads[j].version, heads[j].position, heads[j].offset);
    }
    return columns;
  }

  /** The stream's row in the table, -1 when it has none. */
  private rowOf(stream: string): number {
    return this.table.count === 0 || stream === this.notInTable ? -1 : this.table.find(stream);
  }

  /** The names of the streams with a durable event (version ≥ 0), without making their heads. */
  *namesWithEvents(): IterableIterator<string> {
    for (let row = 0; row < this.table.count; row++) {
      const state = this.rowState[row];
      if (state === IN_COLUMNS ? this.columns.versions[row] >= 0 : state === ASKED_FOR && this.askedByRow[row]!.version >= 0) yield this.table.nameOf(row);
    }
    for (const [name, head] of this.added) if (head.version >= 0) yield name;
  }

  private ask(stream: string, row: number, head: StreamHead): StreamHead {
    this.rowState[row] = ASKED_FOR;
    this.asked.set(stream, head);
    // Filled, so that V8 keeps it a dense array (8 bytes a row) rather than a dictionary.
    if (this.askedByRow.length === 0) this.askedByRow = new Array<StreamHead | undefined>(this.table.count).fill(undefined);
    this.askedByRow[row] = head;
    return head;
  }

  private row(i: number): StreamHead {
    const version = this.columns.versions[i];
    return { version, pendingVersion: version, position: this.columns.positions[i], offset: this.columns.offsets[i] };
  }
}

/**
 * The byte offset inside its segment of position k × SPARSE_EVERY, by k, in
 * a Uint32Array that grows (offsets in a segment are 32-bit): a snapshot
 * stores it as such, and an open takes it as it is (at 100M events, 390,625
 * offsets: pushing them into an array one by one took 10–20 ms of the open).
 * Written in order of k, with no gap.
 */
export class SparseOffsets {
  private offsets: Uint32Array = new Uint32Array(64);
  /** The first k held: 0, but an overlay's starts after its base's (recovery/read-ahead.ts). */
  private first = 0;
  /** One past the last k held. */
  length = 0;

  /** Takes a snapshot's offsets (kept as they are), before any other is set. */
  seed(offsets: Uint32Array): void {
    this.offsets = offsets;
    this.length = offsets.length;
  }

  /** Holds only the offsets from k = `first` on (an overlay's), before any is set. */
  startAt(first: number): void {
    this.first = first;
    this.length = first;
  }

  get(k: number): number {
    return this.offsets[k - this.first];
  }

  set(k: number, offset: number): void {
    const i = k - this.first;
    if (i >= this.offsets.length) {
      const grown = new Uint32Array(Math.max(i + 1, this.offsets.length * 2));
      grown.set(this.offsets.subarray(0, this.length - this.first));
      this.offsets = grown;
    }
    this.offsets[i] = offset;
    if (k >= this.length) this.length = k + 1;
  }

  /** Sets every offset `other` holds (an overlay's, merged into its base). */
  copyFrom(other: SparseOffsets): void {
    for (let k = other.first; k < other.length; k++) this.set(k, other.get(k));
  }

  /** A copy of the offsets from k = 0, as a snapshot stores them. */
  toArray(): Uint32Array {
    return this.offsets.slice(0, this.length - this.first);
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
  readonly sparseOffsets = new SparseOffsets();
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
   * position order: `base + recordOffsets[i]` is the byte offset of its i-th event.
   * `head`: the stream's head, when the caller has it from `headOrCreate`
   * already (one lookup less).
   */
  addDurable(stream: string, firstVersion: number, firstPosition: number, count: number, recordOffsets: readonly number[], base: number, head = this.headOrCreate(stream)): void {
    const lastVersion = firstVersion + count - 1;
    head.version = lastVersion;
    if (head.pendingVersion < lastVersion) head.pendingVersion = lastVersion;
    head.position = firstPosition + count - 1;
    head.offset = base + recordOffsets[count - 1];
    const firstSparse = Math.ceil(firstPosition / SPARSE_EVERY) * SPARSE_EVERY;
    for (let p = firstSparse; p < firstPosition + count; p += SPARSE_EVERY) {
      this.sparseOffsets.set(p / SPARSE_EVERY, base + recordOffsets[p - firstPosition]);
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
      this.sparseOffsets.set(p / SPARSE_EVERY, SEGMENT_HEADER_BYTES);
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
      return { segment, position: k * SPARSE_EVERY, offset: this.sparseOffsets.get(k) };
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
