import type { Segment } from '../log/segmented-log';
import { segmentRecords } from './segment-records';

/** One entry per this many records of a scavenged segment. */
const EVERY = 64;

interface PlaceTable {
  positions: number[];
  offsets: number[];
}

/**
 * Finds events by position in segments a scavenge rewrote. Links and stream
 * heads written before the rewrite name old byte offsets there, so a place
 * in such a segment is looked up by its position: a sparse table per
 * segment (every 64th record, built by one read of the segment on first
 * use, kept per segment file), then at most 64 records read forward.
 * Memory: 16 bytes per 64 events kept in scavenged segments.
 */
export class ScavengedSegments {
  private readonly tables = new WeakMap<Segment, PlaceTable>();

  constructor(private readonly read: (segment: Segment, offset: number, length: number) => Promise<Buffer>) {}

  /** Byte offset of the event at `position` in `segment`, undefined when a scavenge removed it. */
  async locate(segment: Segment, position: number): Promise<number | undefined> {
    const table = this.tables.get(segment) ?? (await this.build(segment));
    let lo = 0;
    let hi = table.positions.length - 1;
    if (hi < 0 || table.positions[0] > position) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (table.positions[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    for await (const record of segmentRecords(segment, (offset, length) => this.read(segment, offset, length), table.offsets[lo])) {
      if (record.position === position) return record.offset;
      if (record.position > position) return undefined;
    }
    return undefined;
  }

  /** Remembers a segment's table when the scavenge that wrote it already knows it. */
  remember(segment: Segment, places: Array<{ position: number; offset: number }>): void {
    const table: PlaceTable = { positions: [], offsets: [] };
    for (let i = 0; i < places.length; i += EVERY) {
      table.positions.push(places[i].position);
      table.offsets.push(places[i].offset);
    }
    this.tables.set(segment, table);
  }

  private async build(segment: Segment): Promise<PlaceTable> {
    const table: PlaceTable = { positions: [], offsets: [] };
    let n = 0;
    for await (const record of segmentRecords(segment, (offset, length) => this.read(segment, offset, length))) {
      if (n++ % EVERY === 0) {
        table.positions.push(record.position);
        table.offsets.push(record.offset);
      }
    }
    this.tables.set(segment, table);
    return table;
  }
}
