// Bytes built one after another in a shared arena and handed out as views
// of it: no allocation or copy per piece, and pieces built in a row are
// contiguous (the writer can usually write a batch of framed appends
// without concatenating it). A full arena is replaced; the old one lives on
// until the views of it are let go of (nothing else holds it). Its bytes are
// never written twice, so a view stays valid as long as it is held.

const ARENA_BYTES = 8 * 1024 * 1024;

/** One piece being built: its bytes start at `base` of `bytes` (which moves when the arena is replaced). */
export interface ArenaSpan {
  bytes: Buffer;
  base: number;
}

export class Arena {
  private current = Buffer.allocUnsafe(0);
  private used = 0;

  /** Starts a piece at the arena's first free byte. */
  openSpan(): ArenaSpan {
    return { bytes: this.current, base: this.used };
  }

  /**
   * Makes room for `needed` bytes of `span` counted from its base: when the
   * arena is full, what the span holds so far moves to a fresh arena (at least
   * twice `needed`, so a large piece fits).
   */
  ensureRoom(span: ArenaSpan, needed: number): void {
    if (span.base + needed <= this.current.length) return;
    const fresh = Buffer.allocUnsafe(Math.max(ARENA_BYTES, needed * 2));
    this.current.copy(fresh, 0, span.base, this.current.length);
    this.current = fresh;
    this.used = 0;
    span.bytes = fresh;
    span.base = 0;
  }

  /** Ends the span after `length` bytes: they are the piece's, the next piece starts after them. */
  closeSpan(span: ArenaSpan, length: number): Buffer {
    this.used = span.base + length;
    return span.bytes.subarray(span.base, this.used);
  }
}

/** Where appends are framed (src/log/encode-record.ts). */
export const recordArena = new Arena();
