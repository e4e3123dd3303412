import * as fsp from 'node:fs/promises';
import type { FileHandle, FileSystem } from './file-system';

/** Node's own file system: what the store uses unless told otherwise. */
export class NodeFileSystem implements FileSystem {
  readonly storageId = 'node-fs';
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
  async open(path: string): Promise<FileHandle> {
    return new NodeFileHandle(await fsp.open(path, 'r+'));
  }
  async create(path: string): Promise<FileHandle> {
    return new NodeFileHandle(await fsp.open(path, 'wx+'));
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
}

class NodeFileHandle implements FileHandle {
  constructor(private readonly handle: fsp.FileHandle) {}
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
