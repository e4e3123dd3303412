import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CliRun } from './world';

/** The built command-line tool (`npm test` builds dist/ before the features run). */
export const EVENTFOLD_BINARY = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs `eventfold <args>` to its end and returns how it exited and what it printed. */
export function runEventfold(args: string[]): CliRun {
  return spawnSync(process.execPath, [EVENTFOLD_BINARY, ...args], { encoding: 'utf8', timeout: 120_000 });
}
