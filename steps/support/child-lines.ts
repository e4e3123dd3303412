import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EventfoldWorld } from './world';

const ROOT = join(__dirname, '..', '..');

/** The lines a child prints, handed out in order to whoever waits for them. */
export class ChildLines {
  private readonly lines: string[] = [];
  private readonly waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  private stderr = '';
  private exited: string | undefined;
  /** Called with every line, before it is queued. */
  readonly listeners: Array<(line: string) => void> = [];

  constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      for (const listener of this.listeners) listener(line);
      const waiter = this.waiters.findIndex((w) => w.test(line));
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0].resolve(line);
      else this.lines.push(line);
    });
    child.on('exit', (code, signal) => {
      this.exited = `child exited (${signal ?? code}): ${this.stderr}`;
      // Lines already read are still delivered; waiting for more would be forever.
      setImmediate(() => {
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(this.exited));
      });
    });
  }

  /** The next line that matches `pattern` (already printed or still to come). */
  next(pattern: RegExp): Promise<string> {
    const index = this.lines.findIndex((line) => pattern.test(line));
    if (index >= 0) return Promise.resolve(this.lines.splice(index, 1)[0]);
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => this.waiters.push({ test: (line) => pattern.test(line), resolve, reject }));
  }

  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }
}

/**
 * Starts a TypeScript child script from steps/children with a pipe on stdin,
 * optionally behind a launcher (`unshare …`), tracked for clean-up.
 */
export function startChildWithInput(world: EventfoldWorld, script: string, args: string[], launcher: string[] = []): ChildLines {
  const node = [process.execPath, '-r', 'ts-node/register/transpile-only', join(ROOT, 'steps', 'children', script), ...args];
  const [command, ...rest] = [...launcher, ...node];
  const child = spawn(command, rest, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  world.children.push(child);
  return new ChildLines(child);
}

/** Runs the built `eventfold` binary with a pipe on stdin, tracked for clean-up. */
export function startCli(world: EventfoldWorld, args: string[]): ChildLines {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  world.children.push(child);
  return new ChildLines(child);
}

/** Resolves once the child has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Whether this machine lets us run a process in a PID namespace of its own (util-linux `unshare`). */
export function pidNamespacesAllowed(): { allowed: boolean; why: string } {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', 'echo $$'], { encoding: 'utf8' });
  if (probe.error) return { allowed: false, why: `unshare cannot run here: ${probe.error.message}` };
  if (probe.status !== 0) return { allowed: false, why: `unshare is not permitted here: ${probe.stderr.trim()}` };
  return { allowed: probe.stdout.trim() === '1', why: `inside the namespace the shell is pid ${probe.stdout.trim()}` };
}
