import { fsError, type FileHandle, type FileLock, type FileSystem } from './file-system';

/**
 * The file layer of a read-only store: files open for reading only, and every
 * call that would create, change or remove anything fails with EROFS. So a
 * read-only store cannot write by construction — not a byte, not a marker,
 * not a cleanup — whatever path the code takes.
 */
export function readOnlyFileSystem(fs: FileSystem): FileSystem {
  const refuse = (op: string) => async (path: string): Promise<never> => {
    throw fsError('EROFS', `a read-only store does not ${op} ${path}`);
  };
  return {
    readdir: (dir) => fs.readdir(dir),
    exists: (path) => fs.exists(path),
    readFile: (path) => fs.readFile(path),
    isLocked: (path) => fs.isLocked(path),
    open: (path): Promise<FileHandle> => fs.open(path, 'read'),
    mkdirp: refuse('create'),
    create: refuse('create'),
    rename: refuse('rename'),
    unlink: refuse('remove'),
    syncDir: refuse('sync'),
    tryLock: refuse('lock') as (path: string) => Promise<FileLock | null>,
  };
}

/** A handle that refuses everything: the writer slot of a read-only store's log, never used. */
export function refusingHandle(why: string): FileHandle {
  const refuse = async (): Promise<never> => {
    throw fsError('EROFS', why);
  };
  return { read: refuse, write: refuse, datasync: refuse, truncate: refuse, size: refuse, close: async () => undefined };
}
