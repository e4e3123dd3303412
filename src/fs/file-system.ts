/**
 * The one seam through which the store touches storage. Production uses
 * NodeFileSystem; tests and users' torture runs pass a SimulatedDisk, which can
 * lose unsynced writes, tear them, or fail chosen calls. Keep it small: every
 * method here is a place where a crash or an I/O error can happen.
 */
import { isKnownDurable, markDurable, parentDirectory } from './durable-directories';

export interface FileHandle {
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at end of file). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes at `position`; returns how many bytes landed (may be fewer: a short write). */
  write(buffer: Uint8Array, position: number): Promise<number>;
  /**
   * True when the handle was opened with 'durable-writes' and honours it:
   * each write is on stable storage when it returns, as if `datasync`
   * followed it. Anything else (absent included) means a write needs its
   * datasync.
   */
  readonly durableWrites?: boolean;
  /** Flushes the file's data (and the metadata needed to read it) to stable storage. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** An exclusive advisory lock held on an open file: the kernel's (or the simulated disk's) word, never a guess. */
export interface FileLock {
  /** The locked file, open for reading and writing (its bytes are for people to read, not the lock). */
  readonly handle: FileHandle;
  /** Gives the lock up by closing the file: the lock ends with its descriptor. */
  release(): Promise<void>;
  /** Whether the locked file is still the one at its path (not removed or replaced behind the owner's back). */
  stillInPlace(): Promise<boolean>;
}

/**
 * How a file is written. 'durable-writes' is write and datasync in one
 * request to the disk (Node: a descriptor opened with O_DSYNC): the log's
 * appends in 'fsync' durability, where a datasync that waited for the main
 * thread to ask for it left the disk idle meanwhile.
 */
export type WriteMode = 'write' | 'durable-writes';
export type OpenMode = 'read' | WriteMode;

export interface FileSystem {
  mkdirp(dir: string): Promise<void>;
  /** Names (not paths) of the entries of `dir`. */
  readdir(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /**
   * Opens an existing file for reading and writing ('write', the default),
   * for reading only, or for reading and durable writes ('durable-writes':
   * each write reaches stable storage before it returns, see
   * FileHandle.durableWrites).
   */
  open(path: string, mode?: OpenMode): Promise<FileHandle>;
  /** Creates a new file, open for reading and writing ('write' or 'durable-writes', as `open`); fails with EEXIST when it is already there. */
  create(path: string, mode?: WriteMode): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes creations, renames and removals inside `dir` durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Opens `path` (creating it if missing, never truncating it) and takes its
   * exclusive lock without waiting: null when someone else holds it — another
   * process, or another open of the same file in this one. The lock lives as
   * long as the returned descriptor, so it ends when the process dies.
   */
  tryLock(path: string): Promise<FileLock | null>;
  /** True when someone holds the lock on `path` now. Creates and changes nothing. */
  isLocked(path: string): Promise<boolean>;
}

/** Error with a Node-style `code`, as real file systems report them. */
export function fsError(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

/** Writes a whole small file durably: temp file, fsync, rename, directory fsync. */
export async function writeFileAtomic(fs: FileSystem, dir: string, name: string, data: Uint8Array): Promise<void> {
  const tmp = `${dir}/${name}.tmp`;
  if (await fs.exists(tmp)) await fs.unlink(tmp);
  const handle = await fs.create(tmp);
  try {
    const written = await handle.write(data, 0);
    if (written !== data.length) throw fsError('EIO', `short write to ${tmp}`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, `${dir}/${name}`);
  await fs.syncDir(dir);
}

/**
 * Creates a directory (and any missing parents) and makes each entry durable:
 * a new directory lives in its parent's entries, which a crash loses unless
 * the parent is fsynced after the mkdir. A directory that exists but that this
 * process has not itself made durable gets its parent fsynced too: an earlier
 * attempt may have made it and then failed that fsync.
 */
export async function ensureDir(fs: FileSystem, dir: string): Promise<void> {
  if (isKnownDurable(fs, dir)) return;
  const parent = parentDirectory(dir);
  if (!(await fs.exists(dir))) {
    if (parent !== dir && parent !== '.' && parent !== '/') await ensureDir(fs, parent);
    await fs.mkdirp(dir);
  }
  if (parent !== '.') await fs.syncDir(parent);
  markDurable(fs, dir);
}
