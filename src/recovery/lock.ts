import { hostname } from 'node:os';
import { StoreLockedError } from '../errors';
import type { FileLock, FileSystem } from '../fs/file-system';
import { LOCK_FILE } from '../store-layout';

/**
 * One owner per store, enforced by the operating system: the owner holds an
 * exclusive advisory lock on the file LOCK (Linux: an open-file-description
 * lock; macOS/BSD: flock) for the store's whole life. The kernel ends the lock
 * when the descriptor closes — on `close()`, or when the process dies however
 * it dies — so there is no pid to guess about and nothing to take over.
 * A second open in the same process is refused as well: it opens a second
 * descriptor, and the lock is per descriptor.
 *
 * The LOCK file is never removed (removing it would let a later opener lock a
 * fresh file while an older one still holds the removed one). Its bytes are
 * for people and for error messages, never the authority:
 *
 *   while owned:  one line of JSON, UTF-8: {"pid":1234,"host":"web-1","since":"2026-11-23T21:00:00.000Z"}\n
 *   after close:  empty (0 bytes)
 *
 * The owner truncates and writes it right after taking the lock (not synced:
 * after a power loss no lock survives anyway). So a new owner that finds the
 * line still there knows its previous owner never closed the store: it died.
 *
 * Should someone delete or replace LOCK under a running store, the next
 * opener would lock the new file. The owner therefore checks, every second
 * (`verify`), that its locked file is still the one named LOCK: if not, it
 * locks the new one at once — and if another process got there first, the
 * owner has lost the store and must stop writing.
 */

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export interface HeldLock {
  /** The owner the LOCK file still named when the lock was taken: it ended without closing the store. */
  previousOwner: LockOwner | null;
  /**
   * 'held': the locked file is still LOCK. 'restored': LOCK had been removed
   * or replaced, and the new one is locked now. 'lost': another process
   * holds the new LOCK — it owns the store now.
   */
  verify(): Promise<'held' | 'restored' | 'lost'>;
  /**
   * Gives the lock up. After a clean close the note is emptied; after an open
   * that failed (`{ clean: false }`) the previous owner's note is put back, so
   * the next open still reports that owner as having died without closing.
   */
  release(options?: { clean: boolean }): Promise<void>;
}

/** Takes the store's lock now or fails at once with StoreLockedError (it never waits). */
export async function acquireLock(fs: FileSystem, dir: string): Promise<HeldLock> {
  const path = `${dir}/${LOCK_FILE}`;
  const first = await fs.tryLock(path);
  if (!first) throw new StoreLockedError(dir, (await readOwner(fs, path))?.pid ?? null);
  let lock = first;
  let released = false;
  let previousNote: Buffer = Buffer.alloc(0);
  const release = async ({ clean } = { clean: true }) => {
    if (released) return;
    released = true;
    // Rewrite the note while still holding the lock, then let the kernel end the lock with the descriptor.
    await lock.handle.truncate(0).catch(() => undefined);
    if (!clean && previousNote.length > 0) await lock.handle.write(previousNote, 0).catch(() => undefined);
    await lock.release().catch(() => undefined);
  };
  const verify = async (): Promise<'held' | 'restored' | 'lost'> => {
    if (released || (await lock.stillInPlace())) return 'held';
    const again = await fs.tryLock(path);
    if (!again) return 'lost';
    const orphan = lock;
    lock = again;
    await writeNote(lock).catch(() => undefined);
    await orphan.release().catch(() => undefined);
    return 'restored';
  };
  try {
    previousNote = await readAll(lock);
    const previousOwner = parseOwner(previousNote);
    await writeNote(lock);
    return { previousOwner, verify, release };
  } catch (error) {
    await release();
    throw error;
  }
}

async function writeNote(lock: FileLock): Promise<void> {
  const note = Buffer.from(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n');
  await lock.handle.truncate(0);
  await lock.handle.write(note, 0);
}

/**
 * Who holds the store's lock right now, from the lock itself: null when
 * nobody does; a holder whose note cannot be read yet (it is between taking
 * the lock and writing it) has pid -1.
 */
export async function currentOwner(fs: FileSystem, dir: string): Promise<LockOwner | null> {
  const path = `${dir}/${LOCK_FILE}`;
  if (!(await fs.isLocked(path))) return null;
  return (await readOwner(fs, path)) ?? { pid: -1, host: '', since: '' };
}

async function readOwner(fs: FileSystem, path: string): Promise<LockOwner | null> {
  try {
    return parseOwner(await fs.readFile(path));
  } catch {
    return null;
  }
}

async function readAll(lock: FileLock): Promise<Buffer> {
  const size = await lock.handle.size();
  const bytes = Buffer.alloc(Math.min(size, 4096));
  const read = await lock.handle.read(bytes, 0, bytes.length, 0);
  return bytes.subarray(0, read);
}

function parseOwner(bytes: Buffer): LockOwner | null {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number') return null;
    return { pid: parsed.pid, host: String(parsed.host ?? ''), since: String(parsed.since ?? '') };
  } catch {
    return null;
  }
}
