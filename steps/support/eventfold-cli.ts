import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioState } from './scenario-state';
import type { CliRun, EventfoldWorld } from './world';

/** The built command-line tool (`npm test` builds dist/ before the features run). */
export const EVENTFOLD_BINARY = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs `eventfold <args>` to its end and returns how it exited and what it printed. */
export function runEventfold(args: string[]): CliRun {
  return spawnSync(process.execPath, [EVENTFOLD_BINARY, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Every file of the store with its bytes, to prove a command changed nothing. */
export function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(full, readFileSync(full).toString('base64'));
    }
  };
  walk(dir);
  return files;
}

/** Every file of the scenario's directory before the last CLI command ran. */
export const cliFiles = scenarioState(() => ({ before: new Map<string, string>() }));

/** Runs an operator's command line ("eventfold verify") on `dir`, keeping the scenario's files as they were before it. */
export function runCli(world: EventfoldWorld, command: string, dir: string): void {
  const args = command.replace(/^eventfold\s+/, '').split(/\s+/);
  const [name, ...options] = args;
  cliFiles(world).before = filesOf(world.dir);
  // Commands that take no directory (bench --out <dir>) get it as their last option instead.
  const args2 = name === 'bench' ? [name, ...options, dir] : [name, dir, ...options];
  if (name === 'bench' || name === 'demo') mkdirSync(dir, { recursive: true });
  world.cli = runEventfold(args2);
}
