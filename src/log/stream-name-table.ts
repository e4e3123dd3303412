import { randomBytes } from 'node:crypto';

/**
 * The stream names a snapshot brings, kept as it stores them — the UTF-8
 * bytes of every name one after the other, and where each ends — and found
 * by name through an open-addressing hash table in typed arrays. Building it
 * is one pass over the bytes with no object per name, so an open from a
 * snapshot of a million streams makes no million strings nor a million `Map`
 * entries; a name becomes a string only when `nameOf` is asked for it.
 *
 * Rows never move and the table never grows: the streams made after the open
 * live beside it (`StreamHeads`).
 */
export class StreamNameTable {
  /**
   * Two Int32 per slot (linear probing, at most half the slots used): the
   * hash of the name there, and its row + 1 (0: empty). The hash beside the
   * row lets a probe pass a slot without reading the name's bytes.
   */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly text: Buffer;
  readonly bytes: Uint8Array;

  /**
   * `bytes` holds every name's UTF-8, row after row; row i's ends at
   * `ends[i]` and starts where row i − 1's ended. The names must differ
   * (a snapshot holds each stream once): a repeated name throws.
   */
  constructor(
    bytes: Uint8Array,
    readonly ends: Uint32Array,
  ) {
    // A plain Uint8Array even when given a Buffer (see `scratch` below).
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = ends.length;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.mask = size - 1;
    const slots = (this.slots = new Int32Array(size * 2));
    let start = 0;
    for (let row = 0; row < count; row++) {
      const end = ends[row];
      const hash = hashBytes(this.bytes, start, end);
      let slot = hash & this.mask;
      for (;;) {
        const found = slots[2 * slot + 1];
        if (found === 0) break;
        if (slots[2 * slot] === hash && this.sameBytes(found - 1, this.bytes, start, end)) throw new Error(`stream name of row ${row} repeats row ${found - 1}'s`);
        slot = (slot + 1) & this.mask;
      }
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = row + 1;
      start = end;
    }
  }

  get count(): number {
    return this.ends.length;
  }

  /** The row of the stream named `name`, or -1. */
  find(name: string): number {
    const length = encodeName(name);
    const hash = hashBytes(scratch, 0, length);
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const found = slots[2 * slot + 1];
      if (found === 0) return -1;
      // A lone surrogate is written as U+FFFD: such a name, never stored (names are checked), must not find one holding U+FFFD.
      if (slots[2 * slot] === hash && this.sameBytes(found - 1, scratch, 0, length)) return name.isWellFormed() ? found - 1 : -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The name of `row`, as a new string. */
  nameOf(row: number): string {
    return this.text.toString('utf8', this.startOf(row), this.ends[row]);
  }

  /** Copies the UTF-8 of `row`'s name into `target` at `at`; returns where it ends there. */
  copyName(row: number, target: Uint8Array, at: number): number {
    // A byte loop: names are short, and a subarray per name would be an object per stream.
    const bytes = this.bytes;
    const end = this.ends[row];
    for (let i = this.startOf(row); i < end; i++) target[at++] = bytes[i];
    return at;
  }

  /** The length in bytes of `row`'s name. */
  nameBytes(row: number): number {
    return this.ends[row] - this.startOf(row);
  }

  private startOf(row: number): number {
    return row === 0 ? 0 : this.ends[row - 1];
  }

  private sameBytes(row: number, other: Uint8Array, start: number, end: number): boolean {
    const mine = this.startOf(row);
    if (this.ends[row] - mine !== end - start) return false;
    const bytes = this.bytes;
    for (let i = 0; i < end - start; i++) if (bytes[mine + i] !== other[start + i]) return false;
    return true;
  }
}

/** The names of the table in `bytes` and `ends` form (as a snapshot stores them), from strings. */
export function encodeNames(names: readonly string[]): { bytes: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(names.length);
  let total = 0;
  for (let i = 0; i < names.length; i++) ends[i] = total += Buffer.byteLength(names[i]);
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < names.length; i++) at += bytes.write(names[i], at);
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, total), ends };
}

/**
 * Where a name being looked up is encoded (UTF-8 takes at most 3 bytes per
 * UTF-16 unit), grown as needed. A plain Uint8Array, as the table's bytes
 * are: the hash and the comparison then see one kind of array.
 */
let scratch = new Uint8Array(1024);
const encoder = new TextEncoder();

function encodeName(name: string): number {
  if (name.length * 3 > scratch.length) scratch = new Uint8Array(name.length * 3);
  return encoder.encodeInto(name, scratch).written;
}

/**
 * FNV-1a over the bytes, from a basis drawn per process (names that collide
 * cannot be prepared in advance), then MurmurHash3's final mix so that the
 * low bits the table uses depend on every byte.
 */
const BASIS = randomBytes(4).readInt32LE(0) ^ 0x811c9dc5;

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = BASIS ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
