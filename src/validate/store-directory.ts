import { InvalidInputError, StorageError } from '../errors';
import { ensureDir, type FileSystem } from '../fs/file-system';

/**
 * Makes sure `directory` can hold a store before anything else happens:
 * an existing directory is used as it is, a missing one is created, and a
 * file where the directory should be is refused (nothing is created then).
 */
export async function prepareDirectory(fs: FileSystem, directory: string): Promise<void> {
  let exists: boolean;
  try {
    exists = await fs.exists(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'ENOTDIR') throw pathThroughFile(directory, error);
    throw new StorageError(`Could not look at the store directory ${directory}`, error);
  }
  if (exists) {
    try {
      await fs.readdir(directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException)?.code;
      if (code === 'ENOTDIR' || code === 'ENOENT') {
        throw new InvalidInputError(`${directory} is a file, not a store directory; pass the path of a directory (it is created if missing)`, { cause: error });
      }
      throw new StorageError(`Could not read the store directory ${directory}`, error);
    }
    return;
  }
  try {
    // The new directory's entry is fsynced into its parent, so a crash cannot lose the store.
    await ensureDir(fs, directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw pathThroughFile(directory, error);
    throw new StorageError(`Could not create the store directory ${directory}`, error);
  }
}

function pathThroughFile(directory: string, cause: unknown): InvalidInputError {
  return new InvalidInputError(`Cannot create the store directory ${directory}: part of its path is a file, not a directory`, { cause });
}
