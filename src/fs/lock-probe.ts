import * as fsp from 'node:fs/promises';

/**
 * Whether someone holds an exclusive lock on a file, found WITHOUT taking a
 * lock: Linux lists every file lock in /proc/locks, one per line:
 *
 *   1: OFDLCK ADVISORY  WRITE -1 fd:01:1835011 0 EOF
 *   2: FLOCK  ADVISORY  WRITE 4321 08:01:1835012 0 EOF
 *   2: -> FLOCK ADVISORY WRITE 999 08:01:1835012 0 EOF   (a waiter, not a holder)
 *
 * with the locked file as <major>:<minor>:<inode> (major and minor in hex).
 * A probe that took a lock, even a shared one for a moment, would make an
 * `open` that lands in that moment fail with StoreLockedError.
 *
 * Returns undefined where /proc/locks cannot be read (not Linux): the caller
 * falls back to a probe that locks.
 */
export async function lockedPerProcLocks(path: string): Promise<boolean | undefined> {
  let table: string;
  try {
    table = await fsp.readFile('/proc/locks', 'latin1');
  } catch {
    return undefined;
  }
  let file: import('node:fs').BigIntStats;
  try {
    file = await fsp.stat(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const major = ((file.dev >> 8n) & 0xfffn) | ((file.dev >> 32n) & ~0xfffn);
  const minor = (file.dev & 0xffn) | ((file.dev >> 12n) & ~0xffn);
  let sameInodeElsewhere = false;
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || fields[1] === '->') continue;
    if (fields[3] !== 'WRITE') continue;
    const id = fields[5].split(':');
    if (id.length !== 3 || BigInt(id[2]) !== file.ino) continue;
    if (BigInt(`0x${id[0]}`) === major && BigInt(`0x${id[1]}`) === minor) return true;
    sameInodeElsewhere = true;
  }
  // On an overlay file system stat() reports the overlay's device while the
  // lock is listed under the layer's: an exclusive lock on the same inode
  // number counts (at worst a store is reported in use when it is not).
  return sameInodeElsewhere;
}
