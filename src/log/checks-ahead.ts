import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

// CRC checks of a replay's blocks on a second thread. A replay spends a
// fifth of its main-thread time on the two CRCs of each record; a worker
// walks the block the reader just read (shared memory, nothing copied) with
// the same checks and publishes, in a shared counter, the byte up to which
// every record passed. The reader, walking the same records in the same
// order, skips the CRCs of those and checks every other record itself —
// whether the worker is behind, stopped at damage, or not running at all —
// so what it returns and the CorruptionError it raises, at which record, do
// not depend on the worker: only the time does.

/** Index in the progress array: the block's byte up to which every record passed (written by the worker). */
export const CHECKED_END = 0;
/** Index in the progress array: set by the reader once it is done with the block (the worker stops). */
export const ABANDONED = 1;
/** Index in the progress array: set by the worker when it has stopped walking the block (notified). */
export const DONE = 2;

/** What the reader posts to the worker for one block. */
export interface CheckRequest {
  bytes: SharedArrayBuffer;
  length: number;
  /** The segment's durable size when the block was read, and the block's offset in it (as the reader checks with). */
  segmentEnd: number;
  offset: number;
  progress: Int32Array;
}

/** Blocks smaller than this are checked by the reader alone (a message costs more than their CRCs). */
export const CHECK_AHEAD_FROM_BYTES = 64 * 1024;

let worker: Worker | null = null;
/** False once the worker could not start or has stopped: every block is then checked by the reader. */
let usable = true;

function startWorker(): Worker | null {
  if (worker || !usable) return worker;
  try {
    const compiled = join(__dirname, 'check-worker.js');
    // Under ts-node (the test suite) the worker runs the TypeScript source through it as well.
    worker = existsSync(compiled)
      ? new Worker(compiled)
      : new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(join(__dirname, 'check-worker.ts'))});`, { eval: true });
  } catch {
    usable = false;
    return null;
  }
  const stopped = () => {
    usable = false;
    worker = null;
  };
  worker.on('error', stopped);
  worker.on('exit', stopped);
  // An idle worker must not keep the process alive.
  worker.unref();
  return worker;
}

/**
 * The buffers of one replay's blocks: a block the worker will check is read
 * into shared memory, and one replay reuses its shared buffer from block to
 * block (a fresh one costs its zeroing and page faults, ≈ 0.3 ms a MiB).
 * Reuse is safe: nothing decoded from a block keeps a view of it, and the
 * worker only ever publishes to the progress array of the block it was
 * given, which the reader stops reading once it moves on.
 */
export class BlockBuffers {
  private shared: SharedArrayBuffer | null = null;

  take(length: number): Buffer {
    if (length < CHECK_AHEAD_FROM_BYTES || !usable) return Buffer.allocUnsafe(length);
    if (!this.shared || this.shared.byteLength < length) this.shared = new SharedArrayBuffer(length);
    return Buffer.from(this.shared, 0, length);
  }
}

/**
 * Hands a block read from `offset` of a segment whose durable size was
 * `segmentEnd` to the worker; returns its progress array, or null when the
 * reader checks the block alone (small, not shared, no worker).
 */
export function checkAhead(block: Buffer, segmentEnd: number, offset: number): Int32Array | null {
  if (block.length < CHECK_AHEAD_FROM_BYTES || !(block.buffer instanceof SharedArrayBuffer) || block.byteOffset !== 0) return null;
  const checker = startWorker();
  if (!checker) return null;
  const progress = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  const request: CheckRequest = { bytes: block.buffer, length: block.length, segmentEnd, offset, progress };
  checker.postMessage(request);
  return progress;
}

/** Tells the worker the reader is done with a block (it stops checking it). */
export function abandon(progress: Int32Array | null): void {
  if (progress) Atomics.store(progress, ABANDONED, 1);
}

/** Atomics.waitAsync (Node 16 and later; typed from lib ES2024 only). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { value: Promise<string> | string };
}

/** Where the worker stopped checking a block (its CHECKED_END once DONE), when it has. */
export async function whenChecked(progress: Int32Array): Promise<number> {
  while (Atomics.load(progress, DONE) === 0) await (Atomics as unknown as AtomicsWaitAsync).waitAsync(progress, DONE, 0).value;
  return Atomics.load(progress, CHECKED_END);
}
