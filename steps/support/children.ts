import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EventfoldWorld } from './world';

const ROOT = join(__dirname, '..', '..');

/** Starts a TypeScript child script from steps/children, tracked so that the scenario cleans it up. */
export function startChild(world: EventfoldWorld, script: string, args: string[], nodeOptions: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeOptions, '-r', 'ts-node/register/transpile-only', join(ROOT, 'steps', 'children', script), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  world.children.push(child);
  return child;
}

/** Calls `onLine` for every line the child prints; resolves with stderr once the child has exited. */
export function followChild(child: ChildProcess, onLine: (line: string) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', onLine);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Resolves with the pid the child reports once it is ready. */
export function whenReady(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^ready (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
}
