// A throwaway PostgreSQL cluster for one test run (or one bench run): initdb
// into a temporary directory, a unix socket in that directory, a free TCP
// port on 127.0.0.1, `pg_ctl start -w`; `stop()` stops it and removes the
// directory. The server refuses to run as root, so as root every server
// program runs as the `postgres` user (runuser). A run killed before it could
// stop its cluster leaves an owner pid behind: the next start stops and
// removes such orphans (only those whose owner process is gone).
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinaries, noServerSentence } from './postgres-server';

const PREFIX = 'eventfold-postgres-';
const OWNER_FILE = 'owner.pid';

export interface Cluster {
  /** Connects as the superuser `postgres` to the database `postgres`. */
  url: string;
  port: number;
  directory: string;
  /** Stops the server and removes its directory (synchronous: usable from an exit handler). Idempotent. */
  stop(): void;
  /** Restarts the server (fast shutdown: every session is ended), on the same port. */
  restart(): void;
}

export interface ClusterOptions {
  /**
   * false for tests: the server skips fsync (a test cluster never loses power;
   * its scenarios kill clients and restart the server, not the machine).
   * true (default) for benchmarks: the server's default durability.
   */
  fsync?: boolean;
}

interface ServerUser {
  uid: number;
  gid: number;
}

/** The `postgres` user when running as root (the server refuses root), else the current user. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) throw new Error('running as root, and there is no "postgres" user to run the PostgreSQL server as (Debian\'s postgresql package creates it)');
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function run(bindir: string, user: ServerUser | undefined, program: string, args: string[]): void {
  const command = user ? ['runuser', '-u', 'postgres', '--', join(bindir, program), ...args] : [join(bindir, program), ...args];
  const result = spawnSync(command[0], command.slice(1), { encoding: 'utf8', cwd: '/', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`"${command.join(' ')}" failed (${result.error?.message ?? `exit code ${result.status}`}): ${result.stderr || result.stdout}`);
  }
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops and removes clusters left by runs that were killed before they could. */
function removeOrphans(bindir: string, user: ServerUser | undefined): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const directory = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(directory, OWNER_FILE), 'utf8'));
    } catch {
      continue; // Being set up by another run right now, or not ours.
    }
    if (!Number.isInteger(owner) || alive(owner)) continue;
    stopServer(bindir, user, directory, 'immediate');
    rmSync(directory, { recursive: true, force: true });
  }
}

function stopServer(bindir: string, user: ServerUser | undefined, directory: string, mode: 'fast' | 'immediate'): void {
  if (!existsSync(join(directory, 'data', 'postmaster.pid'))) return;
  try {
    run(bindir, user, 'pg_ctl', ['stop', '-D', join(directory, 'data'), '-m', mode, '-w', '-t', '60']);
  } catch {
    // Already stopped (a stale pid file): removing the directory is all that is left.
  }
}

/** Starts a fresh cluster; throws with one sentence when there is no server to start. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const bindir = findServerBinaries();
  if (!bindir) throw new Error(noServerSentence());
  const user = serverUser();
  removeOrphans(bindir, user);
  const directory = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(directory, OWNER_FILE), String(process.pid));
  if (user) chownSync(directory, user.uid, user.gid);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopServer(bindir, user, directory, 'fast');
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const data = join(directory, 'data');
    // --no-sync: a throwaway cluster; trust: only this machine's sockets and 127.0.0.1 reach it.
    run(bindir, user, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--no-locale']);
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${directory}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      ...(options.fsync === false ? ['-c fsync=off', '-c full_page_writes=off'] : []),
    ];
    run(bindir, user, 'pg_ctl', ['start', '-D', data, '-l', join(directory, 'server.log'), '-w', '-t', '60', '-o', settings.join(' ')]);
    const restart = () => run(bindir, user, 'pg_ctl', ['restart', '-D', data, '-l', join(directory, 'server.log'), '-m', 'fast', '-w', '-t', '60', '-o', settings.join(' ')]);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, directory, stop, restart };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Stops the cluster when this process exits or is interrupted, whatever happens in between. */
export function stopOnExit(cluster: Cluster): void {
  process.once('exit', () => cluster.stop());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cluster.stop();
      process.kill(process.pid, signal);
    });
  }
}
