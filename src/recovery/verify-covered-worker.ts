import { parentPort } from 'node:worker_threads';
import { NodeFileSystem } from '../fs/node-file-system';
import { readOnlyFileSystem } from '../fs/read-only-file-system';
import type { AsideAnswer, AsideRequest } from './verify-covered-aside';
import { verifyCoveredLogBesideWriter } from './verify-covered';

// The thread of verify-covered-aside.ts: checks the covered log of one store
// on Node's file system, exactly as the main thread would, and answers once.

parentPort!.once('message', async (request: AsideRequest) => {
  const { dir, covered, readOnly, stop } = request;
  const base = new NodeFileSystem();
  const fs = readOnly ? readOnlyFileSystem(base) : base;
  let answer: AsideAnswer;
  try {
    const problem = await verifyCoveredLogBesideWriter(fs, dir, covered, readOnly, () => Atomics.load(stop, 0) === 1);
    answer = problem
      ? { kind: 'damaged', file: problem.file, offset: problem.offset, reason: problem.reason, expectedCrc: problem.expectedCrc, actualCrc: problem.actualCrc }
      : { kind: 'intact' };
  } catch (error) {
    answer = { kind: 'failed', message: (error as Error)?.message ?? String(error) };
  }
  parentPort!.postMessage(answer);
});
