import { fsError, type FileSystem } from './file-system';

/**
 * Creates `path` holding exactly `bytes` and fdatasyncs it; resolves with the
 * bytes written. A short write is an error (EIO). The caller fsyncs the
 * directory when the new name itself must be durable.
 */
export async function writeFileDurably(fs: FileSystem, path: string, bytes: Buffer): Promise<number> {
  const handle = await fs.create(path);
  try {
    if ((await handle.write(bytes, 0)) !== bytes.length) throw fsError('EIO', `short write to ${path}`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return bytes.length;
}
