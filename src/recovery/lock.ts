import { randomUUID } from 'node:crypto';
import { StoreLockedError } from '../errors';
import type { FileSystem } from '../fs/file-system';

/**
 * The LOCK file: JSON `{ pid, token, acquiredAt }`, created exclusively by the
 * opener and removed by close. Node has no portable flock, so liveness is
 * judged from the pid; the token tells this process's live stores apart from
 * locks it left behind in an earlier life (a simulated crash in a test).
 */
const LOCK_NAME = 'LOCK';
/** Tokens of the locks this process holds, with the storage each is held on. */
const liveTokens = new Map<string, string>();

export interface HeldLock {
  /** Pid of a dead owner whose lock was taken over, if any. */
  staleOwner?: number;
  release(): Promise<void>;
}

interface LockContent {
  pid: number;
  token: string;
}

export async function acquireLock(fs: FileSystem, dir: string): Promise<HeldLock> {
  const path = `${dir}/${LOCK_NAME}`;
  const token = randomUUID();
  let staleOwner: number | undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const handle = await fs.create(path);
      try {
        await handle.write(Buffer.from(JSON.stringify({ pid: process.pid, token, acquiredAt: new Date().toISOString() })), 0);
      } finally {
        await handle.close();
      }
      liveTokens.set(token, fs.storageId);
      return {
        staleOwner,
        async release() {
          liveTokens.delete(token);
          await fs.unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(fs, path);
    if (owner === undefined) continue; // removed meanwhile: try again
    if (owner.pid < 0 && attempt < 5) {
      // Empty or half-written: a live opener may be between create and write. Give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    if (isAlive(owner, fs)) throw new StoreLockedError(dir, owner.pid);
    // Move the dead owner's lock aside (only one contender's rename can win),
    // then confirm it really was that dead lock before discarding it.
    const aside = `${path}.stale-${token}`;
    try {
      await fs.rename(path, aside);
    } catch {
      continue;
    }
    const moved = await readOwner(fs, aside);
    if (moved && moved.token !== owner.token && isAlive(moved, fs)) {
      await fs.rename(aside, path).catch(() => undefined);
      throw new StoreLockedError(dir, moved.pid);
    }
    await fs.unlink(aside).catch(() => undefined);
    staleOwner = owner.pid;
  }
  throw new StoreLockedError(dir, -1);
}

async function readOwner(fs: FileSystem, path: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse((await fs.readFile(path)).toString('utf8')) as LockContent;
    return typeof parsed.pid === 'number' ? parsed : { pid: -1, token: '' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Unreadable or half-written lock: its writer died before finishing.
    return { pid: -1, token: '' };
  }
}

function isAlive(owner: LockContent, fs: FileSystem): boolean {
  if (owner.pid <= 0) return false;
  if (owner.pid === process.pid) return liveTokens.get(owner.token) === fs.storageId;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
