/**
 * Where every durable event lives, and each stream's versions.
 *
 * Held in memory and rebuilt on open by the log scan. It grows with the
 * number of events (one offset per event, one position per stream event):
 * about 16 bytes an event.
 */
export interface StreamEntry {
  /** Last durable version, -1 before the first event is durable. */
  version: number;
  /** Last version taken by an accepted append (durable or still queued). */
  pendingVersion: number;
  /** Global position of each durable version (index = version). */
  positions: number[];
}

export class StreamIndex {
  readonly streams = new Map<string, StreamEntry>();
  /** Byte offset inside its segment of every durable event, indexed by global position. */
  readonly offsets: number[] = [];
  /** Base position of each segment, ascending. */
  readonly segmentBases: number[] = [];

  /** Number of durable events = next global position. */
  get durableCount(): number {
    return this.offsets.length;
  }

  entry(stream: string): StreamEntry {
    let entry = this.streams.get(stream);
    if (!entry) {
      entry = { version: -1, pendingVersion: -1, positions: [] };
      this.streams.set(stream, entry);
    }
    return entry;
  }

  /** Records one durable event; called in position order. */
  addDurable(stream: string, version: number, position: number, offset: number): void {
    const entry = this.entry(stream);
    entry.positions.push(position);
    entry.version = version;
    if (entry.pendingVersion < version) entry.pendingVersion = version;
    this.offsets.push(offset);
  }

  /** Index of the segment that holds `position`. */
  segmentOf(position: number): number {
    const bases = this.segmentBases;
    let lo = 0;
    let hi = bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bases[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
