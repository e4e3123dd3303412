import { randomBytes } from 'node:crypto';

/** A table's hash slots as a snapshot stores them beside the names (see `StreamNameTable`), so that an open need not hash a single name. */
export interface StoredNameTable {
  /** The FNV-1a basis the hashes were made with (int32). */
  basis: number;
  /** Two int32 per slot: hash, row + 1 (0: empty). A power of two of slots, fewer than half of them used. */
  slots: Int32Array;
}

/**
 * The stream names a snapshot brings, kept as it stores them — the UTF-8
 * bytes of every name one after the other, and where each ends — and found
 * by name through an open-addressing hash table in typed arrays (which the
 * snapshot stores as well, so an open only checks it). No object per name:
 * an open from a snapshot of a million streams makes no million strings nor
 * a million `Map` entries; a name becomes a string only when `nameOf` is
 * asked for it.
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
  readonly slots: Int32Array;
  /** Drawn per table when it is built (names that collide cannot be prepared in advance), kept with it in snapshots. */
  readonly basis: number;
  private readonly mask: number;
  private readonly text: Buffer;
  readonly bytes: Uint8Array;

  /**
   * `bytes` holds every name's UTF-8, row after row; row i's ends at
   * `ends[i]` and starts where row i − 1's ended. The names must differ
   * (a snapshot holds each stream once): a repeated name throws. `stored`
   * is the table a snapshot kept for these names (checked by
   * `checkStoredNameTable` when it was decoded); without it the names are
   * hashed.
   */
  constructor(
    bytes: Uint8Array,
    readonly ends: Uint32Array,
    stored?: StoredNameTable,
  ) {
    // A plain Uint8Array even when given a Buffer (see `scratch` below).
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (stored) {
      this.basis = stored.basis;
      this.slots = stored.slots;
      this.mask = stored.slots.length / 2 - 1;
      return;
    }
    this.basis = randomBytes(4).readInt32LE(0);
    const count = ends.length;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.mask = size - 1;
    const slots = (this.slots = new Int32Array(size * 2));
    let start = 0;
    for (let row = 0; row < count; row++) {
      const end = ends[row];
      const hash = hashBytes(this.basis, this.bytes, start, end);
      let slot = hash & this.mask;
      for (;;) {
        const found = slots[2 * slot + 1];
        if (found === 0) break;
        if (slots[2 * slot] === hash && this.sameBytes(found - 1, this.bytes, start, end)) throw new Error(`the name of row ${row} repeats row ${found - 1}'s, ${JSON.stringify(this.nameOf(row))}`);
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
    const row = this.findBytes(scratch, 0, length);
    // A lone surrogate is written as U+FFFD: such a name, never stored (names are checked), must not find one holding U+FFFD.
    return row >= 0 && !name.isWellFormed() ? -1 : row;
  }

  /**
   * The row that `row`'s own name finds through the table, or -1: `row`
   * itself when the table is the one of these names. A stored table is only
   * checked for its shape when decoded (checkStoredNameTable); this says
   * whether its hashes and places are right, name by name, hashing each
   * (the background check of a snapshot does, see snapshot/snapshot-heads.ts).
   */
  findOwnName(row: number): number {
    return this.findBytes(this.bytes, this.startOf(row), this.ends[row]);
  }

  private findBytes(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(this.basis, bytes, start, end);
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const found = slots[2 * slot + 1];
      if (found === 0) return -1;
      if (slots[2 * slot] === hash && this.sameBytes(found - 1, bytes, start, end)) return found - 1;
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
 * Why a stored table cannot be the one of `count` names: its size is not a
 * power of two above `count`, or its rows are not each of 0 … count − 1 once.
 * Null when it can be (its hashes are trusted: the snapshot's CRC covers them).
 */
export function checkStoredNameTable(stored: StoredNameTable, count: number): string | null {
  const { slots, basis } = stored;
  if (!(slots instanceof Int32Array) || !Number.isInteger(basis) || basis !== (basis | 0)) return 'have no hash table of int32 slots';
  const size = slots.length / 2;
  // More slots than names, so that every probe reaches an empty one.
  if (size < 16 || (size & (size - 1)) !== 0 || size <= count) return `have a hash table of ${size} slots for ${count} names`;
  const seen = new Uint8Array(count);
  let used = 0;
  for (let slot = 0; slot < size; slot++) {
    const row = slots[2 * slot + 1] - 1;
    if (row === -1) continue;
    if (row < 0 || row >= count || seen[row] === 1) return `have a hash table naming row ${row} wrongly`;
    seen[row] = 1;
    used++;
  }
  return used === count ? null : `have a hash table of ${used} names for ${count}`;
}

/**
 * FNV-1a over the bytes from the table's basis, then MurmurHash3's final
 * mix so that the low bits the table uses depend on every byte.
 */
function hashBytes(basis: number, bytes: Uint8Array, start: number, end: number): number {
  let h = basis ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
