// Bytes built one after another in a shared arena and handed out as views
// of it: no allocation or copy per piece, and pieces built in a row are
// contiguous (the writer can usually write a batch of framed appends
// without concatenating it).
//
// An arena fills slabs of memory one after another. Each piece handed out
// (closeSpan) is counted on its slab until its holder gives it back
// (releaseArenaBytes); a full slab whose pieces have all been given back is
// reused, its bytes written again. A piece that is never given back keeps its
// slab out of use for good: the slab is left to the garbage collector, as
// every full slab was before slabs were reused.
//
// Why reuse: a slab is a Buffer whose memory lives outside V8's heap, and V8
// starts a full collection when enough such memory has been allocated since
// the last one. At 50,000 single appends/s a fresh 8 MiB slab every ~0.5 s
// brought a full collection about every second (the open-loop bench row's p99
// latency: 6.4–6.7 ms); at a million batched events/s many per second.
// Larger fresh slabs only spread those out, and slowed appending (a fresh
// mapping's pages are faulted in on first write each time).
//
// The holder's promise: a piece is given back only when nothing will read or
// write its bytes again — the file log gives back an append's bytes once they
// are durable and acknowledged (src/file-log/file-log.ts, AcceptedAppend).

/**
 * Set (EVENTFOLD_ARENA_CHECKS=1, the test run does) to overwrite a slab's
 * bytes when it is taken for reuse, and to use small slabs so that even a
 * short test reuses them: a holder that read or wrote a piece after giving
 * it back then finds garbage, and the record checks name it.
 */
const POISON_REUSED = process.env.EVENTFOLD_ARENA_CHECKS === '1';
const SLAB_BYTES = POISON_REUSED ? 64 * 1024 : 8 * 1024 * 1024;
/** Emptied slabs kept for reuse per arena; more are left to the garbage collector. */
const SPARE_SLABS = 2;

class Slab {
  /** Pieces handed out and not yet given back. */
  pieces = 0;
  /** False once a give-back did not match a piece (a holder's bug): the slab is never reused. */
  reusable = true;

  constructor(
    readonly bytes: Buffer,
    readonly arena: Arena,
  ) {}
}

/**
 * The slabs whose pieces can be given back, by their memory. Weak: a slab
 * with a piece that is never given back (the PostgreSQL log's payloads, an
 * append refused after it was validated) is kept by nothing once that piece
 * is let go of, and the garbage collector takes it.
 */
const slabsByMemory = new WeakMap<ArrayBufferLike, Slab>();

/** One piece being built: its bytes start at `base` of `bytes` (which moves when the arena moves to another slab). */
export interface ArenaSpan {
  bytes: Buffer;
  base: number;
}

export class Arena {
  private current: Slab | undefined;
  private bytes: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  private readonly spares: Slab[] = [];

  /** Starts a piece at the arena's first free byte. */
  openSpan(): ArenaSpan {
    return { bytes: this.bytes, base: this.used };
  }

  /**
   * Makes room for `needed` bytes of `span` counted from its base: when the
   * slab is full, what the span holds so far moves to another slab (a spare,
   * or a fresh one of at least twice `needed`, so a large piece fits).
   */
  ensureRoom(span: ArenaSpan, needed: number): void {
    if (span.base + needed <= this.bytes.length) return;
    const next = this.nextSlab(needed);
    this.bytes.copy(next.bytes, 0, span.base, this.bytes.length);
    const previous = this.current;
    this.current = next;
    this.bytes = next.bytes;
    this.used = 0;
    span.bytes = next.bytes;
    span.base = 0;
    if (previous) this.retired(previous);
  }

  /** Ends the span after `length` bytes: they are the piece's (to give back with releaseArenaBytes), the next piece starts after them. */
  closeSpan(span: ArenaSpan, length: number): Buffer {
    this.used = span.base + length;
    if (this.current) this.current.pieces++;
    return span.bytes.subarray(span.base, this.used);
  }

  /** A slab the arena has moved on from, or one whose last piece came back: reused once it is both. */
  retired(slab: Slab): void {
    if (slab === this.current || slab.pieces > 0) return;
    if (slab.reusable && slab.bytes.length === SLAB_BYTES && this.spares.length < SPARE_SLABS) this.spares.push(slab);
    else slabsByMemory.delete(slab.bytes.buffer);
  }

  private nextSlab(needed: number): Slab {
    while (needed * 2 <= SLAB_BYTES && this.spares.length > 0) {
      const spare = this.spares.pop()!;
      // (A spare given back more often than handed out since it was put aside is dropped, as in releaseArenaBytes.)
      if (!spare.reusable) continue;
      if (POISON_REUSED) spare.bytes.fill(0xdb);
      return spare;
    }
    // allocUnsafeSlow: memory of its own (never a slice of Node's shared pool), so a piece's memory names its slab.
    const slab = new Slab(Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, needed * 2)), this);
    slabsByMemory.set(slab.bytes.buffer, slab);
    return slab;
  }
}

/**
 * Gives back a piece an arena handed out (closeSpan), or a view of part of
 * one: its holder will not read or write those bytes again. Anything else
 * (a view of memory no arena handed out) is ignored. Give each piece back at
 * most once.
 */
export function releaseArenaBytes(piece: Uint8Array): void {
  const slab = slabsByMemory.get(piece.buffer);
  if (!slab) return;
  if (slab.pieces === 0) {
    // More give-backs than pieces: some holder gave back a piece still in use somewhere. Never reuse this slab.
    slab.reusable = false;
    return;
  }
  slab.pieces--;
  if (slab.pieces === 0) slab.arena.retired(slab);
}

/** Where appends are framed (src/log/encode-record.ts). */
export const recordArena = new Arena();
