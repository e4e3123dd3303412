import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rememberFiles } from './file-hashes';
import type { CliRun, EventfoldWorld } from './world';

/** The built command-line tool (`npm test` builds dist/ before the features run). */
export const EVENTFOLD_BINARY = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs `eventfold <args>` to its end and returns how it exited and what it printed. */
export function runEventfold(args: string[]): CliRun {
  return spawnSync(process.execPath, [EVENTFOLD_BINARY, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Runs an operator's command line ("eventfold verify") on `dir`, keeping the scenario's files as they were before it. */
export function runCli(world: EventfoldWorld, command: string, dir: string): void {
  const args = command.replace(/^eventfold\s+/, '').split(/\s+/);
  const [name, ...options] = args;
  // The whole scenario directory, not just the store: a command must create nothing beside it either.
  rememberFiles(world, world.dir);
  // Commands that take no directory (bench --out <dir>) get it as their last option instead.
  const args2 = name === 'bench' ? [name, ...options, dir] : [name, dir, ...options];
  // bench makes its --out folder itself (features/cli/command-line.feature).
  if (name === 'demo') mkdirSync(dir, { recursive: true });
  world.cli = runEventfold(args2);
}
