import { NodeFileSystem, type FileHandle } from '../../src/index';

/**
 * Node's file system, counting the handles the store opens through it and
 * those it closes: unlike the kernel's list of open files, the count does not
 * depend on when the garbage collector last ran.
 */
export class CountingFileSystem extends NodeFileSystem {
  readonly stillOpen = new Map<FileHandle, string>();

  override async open(path: string): Promise<FileHandle> {
    return this.track(await super.open(path), path);
  }

  override async create(path: string): Promise<FileHandle> {
    return this.track(await super.create(path), path);
  }

  private track(handle: FileHandle, path: string): FileHandle {
    this.stillOpen.set(handle, path);
    const close = handle.close.bind(handle);
    handle.close = async () => {
      this.stillOpen.delete(handle);
      await close();
    };
    return handle;
  }
}
