import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tryLock } from 'fs-native-extensions';
import { fsError, type FileHandle, type FileLock, type FileSystem, type OpenMode, type WriteMode } from './file-system';
import { lockedPerProcLocks } from './lock-probe';

/**
 * Whether a write through an O_DSYNC descriptor is as durable as a write and
 * libuv's fdatasync: on Linux, yes. Not on macOS, where libuv's fdatasync
 * is F_FULLFSYNC (it flushes the drive's own cache) and an O_DSYNC write does
 * not; not on Windows, which has no O_DSYNC. Elsewhere 'durable-writes' opens
 * an ordinary descriptor that says so (`durableWrites` false): the log then
 * fdatasyncs each batch.
 */
const DSYNC_IS_DURABLE = process.platform === 'linux' && typeof constants.O_DSYNC === 'number';

/** Node's own file system: what the store uses unless told otherwise. */
export class NodeFileSystem implements FileSystem {
  async mkdirp(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
  }
  readdir(dir: string): Promise<string[]> {
    return fsp.readdir(dir);
  }
  async exists(path: string): Promise<boolean> {
    try {
      await fsp.stat(path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
  async open(path: string, mode: OpenMode = 'write'): Promise<FileHandle> {
    if (mode === 'read') return new NodeFileHandle(await fsp.open(path, 'r'), false);
    const durable = mode === 'durable-writes' && DSYNC_IS_DURABLE;
    return new NodeFileHandle(await fsp.open(path, constants.O_RDWR | (durable ? constants.O_DSYNC : 0)), durable);
  }
  async create(path: string, mode: WriteMode = 'write'): Promise<FileHandle> {
    const durable = mode === 'durable-writes' && DSYNC_IS_DURABLE;
    return new NodeFileHandle(await fsp.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (durable ? constants.O_DSYNC : 0), 0o666), durable);
  }
  readFile(path: string): Promise<Buffer> {
    return fsp.readFile(path);
  }
  rename(from: string, to: string): Promise<void> {
    return fsp.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return fsp.unlink(path);
  }
  async syncDir(dir: string): Promise<void> {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  async tryLock(path: string): Promise<FileLock | null> {
    // The file is never removed by eventfold; should someone else remove or
    // replace it between our open and our lock, we would hold a lock nobody
    // else can see: check that the locked file is still the one at `path`.
    for (let attempt = 0; attempt < 5; attempt++) {
      const handle = await fsp.open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      let locked = false;
      try {
        locked = tryLock(handle.fd);
        if (locked) {
          const [mine, named] = await Promise.all([handle.stat(), fsp.stat(path).catch(() => null)]);
          if (named && named.ino === mine.ino && named.dev === mine.dev) {
            const stillInPlace = async () => {
              const [locked, current] = await Promise.all([handle.stat(), fsp.stat(path).catch(() => null)]);
              return current !== null && current.ino === locked.ino && current.dev === locked.dev;
            };
            return { handle: new NodeFileHandle(handle, false), release: () => handle.close(), stillInPlace };
          }
        }
      } catch (error) {
        await handle.close();
        throw error;
      }
      await handle.close();
      if (!locked) return null;
    }
    throw fsError('EAGAIN', `${path} keeps being replaced while it is being locked`);
  }
  async isLocked(path: string): Promise<boolean> {
    // Looking, not locking: a probe that locks would refuse an open landing in that moment.
    const listed = await lockedPerProcLocks(path);
    if (listed !== undefined) return listed;
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    try {
      // A shared lock is refused only while someone holds the exclusive one;
      // closing the descriptor gives ours back at once.
      return !tryLock(handle.fd, { shared: true });
    } finally {
      await handle.close();
    }
  }
}

class NodeFileHandle implements FileHandle {
  constructor(
    private readonly handle: fsp.FileHandle,
    /** Opened with O_DSYNC: a write returns once its bytes (and what is needed to read them) are on stable storage. */
    readonly durableWrites: boolean,
  ) {}
  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.handle.read(buffer, offset, length, position)).bytesRead;
  }
  async write(buffer: Uint8Array, position: number): Promise<number> {
    return (await this.handle.write(buffer, 0, buffer.length, position)).bytesWritten;
  }
  datasync(): Promise<void> {
    return this.handle.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }
  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}
