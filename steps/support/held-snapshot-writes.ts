import { NodeFileSystem, type FileHandle } from '../../src/index';

/**
 * Node's file system on which creating a snapshot file waits until the test
 * releases it: a snapshot write that takes as long as the test wants,
 * without any timing.
 */
export class HeldSnapshotWrites extends NodeFileSystem {
  /** Snapshot files whose creation is waiting. */
  waiting = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  override async create(path: string): Promise<FileHandle> {
    if (path.includes('/snapshots/')) {
      this.waiting++;
      await this.released;
      this.waiting--;
    }
    return super.create(path);
  }

  releaseAll(): void {
    this.release();
  }
}
