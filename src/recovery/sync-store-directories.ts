import type { FileSystem } from '../fs/file-system';
import { markDurable, parentDirectory } from '../fs/durable-directories';
import { STORE_SUBDIRECTORIES } from '../store-layout';

/**
 * Every writable open calls this, unconditionally, before it reads the log or
 * accepts a write: it fsyncs the store directory's parent, the store directory
 * and each of its subdirectories that exists. A previous process or a failed
 * earlier open in this one may have created, renamed or removed entries whose
 * directory fsync failed (a segment made by a roll, the log/ directory, a
 * removed clean-shutdown marker): they are durable before anything builds on
 * them, so a power cut cannot take back what this open goes on to acknowledge.
 */
export async function syncStoreDirectories(fs: FileSystem, directory: string): Promise<void> {
  const parent = parentDirectory(directory);
  if (parent !== '.') await fs.syncDir(parent);
  await fs.syncDir(directory);
  markDurable(fs, directory);
  for (const name of STORE_SUBDIRECTORIES) {
    const sub = `${directory}/${name}`;
    if (!(await fs.exists(sub))) continue;
    await fs.syncDir(sub);
    markDurable(fs, sub);
  }
}
