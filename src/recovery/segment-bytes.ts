import type { FileHandle } from '../fs/file-system';
import { checkFrame, type FrameCheck } from '../log/check-record';

const WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A moving window over one segment file for the scan: any range asked for
 * (a record header, a whole record up to the 16 MiB maximum) is read into
 * memory once and served from there while the scan moves forward.
 */
export class SegmentBytes {
  /** The bytes held now; `start` is the file offset of `window[0]`. */
  window: Buffer = Buffer.alloc(0);
  start = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  /** Makes [offset, offset+length) (clipped to the file) available; returns where `offset` is in `window`. */
  async ensure(offset: number, length: number): Promise<number> {
    const end = Math.min(offset + length, this.size);
    if (offset >= this.start && end <= this.start + this.window.length) return offset - this.start;
    const wanted = Math.min(Math.max(length, WINDOW_BYTES), this.size - offset);
    const buffer = Buffer.allocUnsafe(Math.max(0, wanted));
    let got = 0;
    while (got < wanted) {
      const n = await this.handle.read(buffer, got, wanted - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.window = buffer.subarray(0, got);
    this.start = offset;
    return 0;
  }

  /**
   * `check` without a read: the record at `offset` checked in the bytes held
   * now, or undefined when they do not hold all of it (then `check` reads).
   * A scan takes almost every record from here, with no promise per record.
   */
  checkHeld(offset: number): FrameCheck | undefined {
    if (offset < this.start || offset >= this.start + this.window.length) return undefined;
    const check = checkFrame(this.window, offset - this.start, this.size - offset, offset);
    return check.kind === 'incomplete' ? undefined : check;
  }

  /** Checks the record at `offset` (header, then body), reading as much of it as its checked header says. */
  async check(offset: number): Promise<{ check: FrameCheck; rel: number }> {
    let rel = await this.ensure(offset, 0);
    for (;;) {
      const check = checkFrame(this.window, rel, this.size - offset, offset);
      if (check.kind !== 'incomplete') return { check, rel };
      rel = await this.ensure(offset, check.needed);
      // Nothing more could be read: the file is shorter than its size said.
      if (this.window.length - rel < check.needed) {
        return { check: { kind: 'bad', reason: 'record is cut short' }, rel };
      }
    }
  }
}
