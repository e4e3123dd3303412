import { resolve } from 'node:path';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { logFile } from '../store-layout';

/** Stands for the machine's own files: every NodeFileSystem shares them. */
const NODE_STORAGE = {};
/**
 * Writes this process rejected whose bytes it could not cut back: the write
 * or its fsync failed, and so did the truncate to the last acknowledged end.
 * Their bytes may sit whole in the page cache, where a reopen would find them
 * valid and take a rejected append as committed. So the process remembers,
 * per storage and segment path, where the acknowledged bytes end, and the next
 * writable open in this process cuts the segment there (reported in
 * `recovery.rejectedWrites`) before it reads the log.
 *
 * Only this process knows: after a restart the bytes are judged by the
 * recovery rules alone (README, "Guarantees").
 */
const uncut = new WeakMap<object, Map<string, number>>();

/** All NodeFileSystem instances share the machine's files; any other file system is its own storage. */
function storageOf(fs: FileSystem): object {
  return fs instanceof NodeFileSystem ? NODE_STORAGE : fs;
}

/** A segment's key in its storage: the absolute path on the machine's files, the path as given (slashes collapsed) on any other. */
function keyOf(fs: FileSystem, path: string): string {
  return fs instanceof NodeFileSystem ? resolve(path) : path.replace(/\/+/g, '/');
}

/** The write after `acknowledgedEnd` in `segmentPath` was rejected and could not be cut back: the next writable open in this process cuts it. */
export function rememberUncutWrite(fs: FileSystem, segmentPath: string, acknowledgedEnd: number): void {
  let map = uncut.get(storageOf(fs));
  if (!map) uncut.set(storageOf(fs), (map = new Map()));
  const key = keyOf(fs, segmentPath);
  // The smallest end wins: bytes past the first rejected write were never acknowledged either.
  map.set(key, Math.min(map.get(key) ?? acknowledgedEnd, acknowledgedEnd));
}

export interface RejectedWriteCut {
  /** The segment, relative to the store directory. */
  file: string;
  /** Where the acknowledged bytes end: the file was cut here. */
  offset: number;
  bytesCut: number;
}

/**
 * Cuts each segment of `logDir` that holds a write this process rejected but
 * could not cut back, and syncs the cut; forgets it once done. A cut that
 * fails again fails the open (the entry stays for the next try).
 */
export async function cutRejectedWrites(fs: FileSystem, logDir: string): Promise<RejectedWriteCut[]> {
  const map = uncut.get(storageOf(fs));
  if (!map || map.size === 0) return [];
  const prefix = `${keyOf(fs, logDir)}/`;
  const cuts: RejectedWriteCut[] = [];
  for (const [key, end] of [...map]) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    const path = `${logDir}/${name}`;
    if (!(await fs.exists(path))) {
      map.delete(key);
      continue;
    }
    const handle = await fs.open(path);
    try {
      const size = await handle.size();
      if (size > end) {
        await handle.truncate(end);
        await handle.datasync();
        cuts.push({ file: logFile(name), offset: end, bytesCut: size - end });
      }
    } finally {
      await handle.close();
    }
    map.delete(key);
  }
  return cuts;
}
