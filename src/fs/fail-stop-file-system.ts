import { fsError, type FileHandle, type FileSystem } from './file-system';

/**
 * The file layer as a scavenge (or any work beside the appends) sees it:
 * every call that changes the disk — a file or directory created, a write
 * (a short one too), an fsync, a truncation, a rename, a removal, a
 * directory fsync — that fails goes to `stop`, which fail-stops the store,
 * and the call rejects with what `stop` returns (StoreFailedError). As for
 * appends: the kernel reports a failed fsync once and may drop the pages it
 * could not write, so a later fsync could report success for data that is
 * gone; nothing is tried again until the store is reopened and recovered.
 * Reads (open, read, readdir, readFile, exists) fail as they are: they change
 * nothing.
 *
 * `stopped` tells whether the store has already fail-stopped (from anywhere:
 * an append's failed fsync, another write beside the appends): then a
 * changing call is not made at all and rejects with that failure, so work
 * already under way when the store stopped (a snapshot waiting on its own
 * fsync, say) makes no further disk call.
 */
export function failStopFileSystem(fs: FileSystem, stop: (error: unknown) => Error, stopped: () => Error | undefined): FileSystem {
  const changing = async <T>(call: () => Promise<T>): Promise<T> => {
    const failure = stopped();
    if (failure) throw failure;
    try {
      return await call();
    } catch (error) {
      throw stop(error);
    }
  };
  const handle = (inner: FileHandle, path: string): FileHandle => ({
    read: (buffer, offset, length, position) => inner.read(buffer, offset, length, position),
    write: (buffer, position) =>
      changing(async () => {
        const written = await inner.write(buffer, position);
        if (written !== buffer.length) throw fsError('EIO', `short write: ${written} of ${buffer.length} bytes reached ${path}`);
        return written;
      }),
    durableWrites: inner.durableWrites,
    datasync: () => changing(() => inner.datasync()),
    truncate: (length) => changing(() => inner.truncate(length)),
    size: () => inner.size(),
    close: () => inner.close(),
  });
  return {
    readdir: (dir) => fs.readdir(dir),
    exists: (path) => fs.exists(path),
    readFile: (path) => fs.readFile(path),
    isLocked: (path) => fs.isLocked(path),
    tryLock: (path) => fs.tryLock(path),
    open: async (path, mode) => handle(await fs.open(path, mode), path),
    mkdirp: (dir) => changing(() => fs.mkdirp(dir)),
    create: (path, mode) => changing(async () => handle(await fs.create(path, mode), path)),
    rename: (from, to) => changing(() => fs.rename(from, to)),
    unlink: (path) => changing(() => fs.unlink(path)),
    syncDir: (dir) => changing(() => fs.syncDir(dir)),
  };
}
