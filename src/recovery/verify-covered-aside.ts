import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CorruptionError, EventfoldError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { verifyCoveredLogBesideWriter, type CoveredLog } from './verify-covered';

// Where the background check of the log a snapshot covers runs. It reads
// and checks every record of that log (0.45 µs of CPU an event): on the
// main thread it takes that time from the reads and appends that run beside
// it (a read-back of a 100M-event store went at half speed while it ran).
// On Node's own file system, a large covered log is checked on a thread of
// its own instead: the same function (verifyCoveredLogBesideWriter) on the
// same files, only somewhere else. Any other file system (a simulated disk
// lives in this thread's memory), a small log (a thread costs more to start
// than its check), or a thread that cannot start: the check runs here.

/** Covered logs of at least this many events are checked on a thread of their own (on Node's file system). */
export const ASIDE_FROM_EVENTS = 500_000;

/** How often the thread is told whether to stop (when `shouldStop` turns true: the store is closing). */
const STOP_POLL_MS = 20;

/** What the checking thread is given. */
export interface AsideRequest {
  dir: string;
  covered: CoveredLog;
  readOnly: boolean;
  /** Set to 1 by this thread when the check must stop. */
  stop: Int32Array;
}

/** What it answers: the log is intact, or damaged (the CorruptionError's fields), or the check failed or was stopped. */
export type AsideAnswer =
  | { kind: 'intact' }
  | { kind: 'damaged'; file: string; offset: number; reason: string; expectedCrc?: number; actualCrc?: number }
  | { kind: 'failed'; message: string };

/**
 * verifyCoveredLogBesideWriter, on a thread of its own when `baseFs` is
 * Node's file system and the covered log is large: resolves and rejects as
 * it does (a CorruptionError with the same file, offset and reason; an
 * EventfoldError when stopped).
 */
export async function verifyCoveredLogAside(fs: FileSystem, baseFs: FileSystem, dir: string, covered: CoveredLog, readOnly: boolean, shouldStop: () => boolean): Promise<CorruptionError | null> {
  const here = () => verifyCoveredLogBesideWriter(fs, dir, covered, readOnly, shouldStop);
  if (baseFs.constructor !== NodeFileSystem || covered.position + 1 < ASIDE_FROM_EVENTS) return here();
  let worker: Worker;
  try {
    worker = startWorker();
  } catch {
    return here();
  }
  const stop = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const poll = setInterval(() => {
    if (shouldStop()) Atomics.store(stop, 0, 1);
  }, STOP_POLL_MS);
  // The thread keeps the process alive while it checks, as the main thread's reads would.
  poll.unref();
  try {
    const answer = await new Promise<AsideAnswer | undefined>((resolve) => {
      worker.once('message', (message: AsideAnswer) => resolve(message));
      worker.once('error', () => resolve(undefined));
      worker.once('exit', () => resolve(undefined));
      const request: AsideRequest = { dir, covered, readOnly, stop };
      worker.postMessage(request);
    });
    // The thread died (out of memory, a module that would not load): the check is done here after all.
    if (answer === undefined) return shouldStop() ? Promise.reject(new EventfoldError('the check of the covered log was stopped by close()')) : here();
    if (answer.kind === 'intact') return null;
    if (answer.kind === 'damaged') {
      const { file, offset, reason, expectedCrc, actualCrc } = answer;
      return new CorruptionError({ file, offset, reason, expectedCrc, actualCrc });
    }
    throw new EventfoldError(answer.message);
  } finally {
    clearInterval(poll);
    void worker.terminate();
  }
}

function startWorker(): Worker {
  const compiled = join(__dirname, 'verify-covered-worker.js');
  // Under ts-node (the test suite) the thread runs the TypeScript source through it as well.
  return existsSync(compiled)
    ? new Worker(compiled)
    : new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(join(__dirname, 'verify-covered-worker.ts'))});`, { eval: true });
}
