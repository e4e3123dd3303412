// Appends are framed one after another into a shared arena and handed out
// as views of it: no allocation or copy per append, and appends framed in a
// row are contiguous, so the writer can usually write a batch without
// concatenating it. A full arena is replaced; the old one lives on until the
// appends that view it are written (nothing else holds it).

const ARENA_BYTES = 8 * 1024 * 1024;
let arena = Buffer.allocUnsafe(ARENA_BYTES);
let used = 0;

/** One append being framed: its bytes start at `base` of `bytes` (which moves when the arena is replaced). */
export interface ArenaSpan {
  bytes: Buffer;
  base: number;
}

/** Starts framing an append at the arena's first free byte. */
export function openSpan(): ArenaSpan {
  return { bytes: arena, base: used };
}

/**
 * Makes room for `needed` bytes of `span` counted from its base: when the
 * arena is full, what the span holds so far moves to a fresh arena (at least
 * twice `needed`, so a large record fits).
 */
export function ensureRoom(span: ArenaSpan, needed: number): void {
  if (span.base + needed <= arena.length) return;
  const fresh = Buffer.allocUnsafe(Math.max(ARENA_BYTES, needed * 2));
  arena.copy(fresh, 0, span.base, arena.length);
  arena = fresh;
  used = 0;
  span.bytes = fresh;
  span.base = 0;
}

/** Ends the span after `length` bytes: they are the append's, the next append starts after them. */
export function closeSpan(span: ArenaSpan, length: number): Buffer {
  used = span.base + length;
  return span.bytes.subarray(span.base, used);
}
