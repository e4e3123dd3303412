import type { SimulatedDisk } from '../../src/index';

/**
 * Makes the first fsync of a file created on `disk` whose path contains
 * `path` return only when the test releases it (the fsync itself is made at
 * once): work that waits on its own fsync for as long as the test wants,
 * without any timing. `reached` resolves once that fsync is waiting.
 */
export function holdFirstFsync(disk: SimulatedDisk, path: string): { reached: Promise<void>; release: () => void } {
  let arrived!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const create = disk.create.bind(disk);
  disk.create = async (file: string) => {
    const handle = await create(file);
    if (!file.includes(path)) return handle;
    const datasync = handle.datasync.bind(handle);
    handle.datasync = async () => {
      await datasync();
      if (held) return;
      held = true;
      arrived();
      await released;
    };
    return handle;
  };
  return { reached, release };
}
