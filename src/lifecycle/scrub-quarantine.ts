import type { FileSystem } from '../fs/file-system';
import { fsError } from '../fs/file-system';
import { AT_TIMESTAMP, checkFrame, decodeHeader, FRAME_HEADER_BYTES } from '../log/record';
import { quarantineDirOf, REPAIR_RECORD } from '../store-layout';

/**
 * A repair sets damaged log bytes aside in `quarantine/` and never deletes
 * them; a scavenge must still take removed events off the disk there too
 * (an erasure request covers every copy). In each quarantined file every
 * checked record — found at any byte offset, since the bytes may start
 * anywhere — whose event `removed` says is gone is overwritten with zeros,
 * in place (the file keeps its size; what cannot be read as a record stays
 * as it was), then fdatasync'ed. Snapshots a repair set aside there are
 * removed, like the store's own (their states may hold removed data).
 * Returns the number of records zeroed.
 */
export async function scrubQuarantine(fs: FileSystem, dir: string, removed: (stream: string, version: number, timestamp: number) => boolean): Promise<number> {
  const quarantine = quarantineDirOf(dir);
  if (!(await fs.exists(quarantine))) return 0;
  let zeroed = 0;
  let unlinked = false;
  for (const name of await fs.readdir(quarantine)) {
    if (name === REPAIR_RECORD || name.endsWith('.tmp')) continue;
    const path = `${quarantine}/${name}`;
    if (name.endsWith('.snap')) {
      await fs.unlink(path);
      unlinked = true;
      continue;
    }
    const bytes = await fs.readFile(path);
    const spans: Array<[number, number]> = [];
    for (let at = 0; at + FRAME_HEADER_BYTES < bytes.length; ) {
      const check = checkFrame(bytes, at, bytes.length - at);
      if (check.kind !== 'ok') {
        at++;
        continue;
      }
      const size = FRAME_HEADER_BYTES + check.length;
      const header = decodeHeader(bytes, at);
      if (removed(header.stream, header.version, bytes.readDoubleLE(at + AT_TIMESTAMP))) spans.push([at, size]);
      at += size;
    }
    if (spans.length === 0) continue;
    const handle = await fs.open(path);
    try {
      for (const [at, size] of spans) {
        if ((await handle.write(Buffer.alloc(size), at)) !== size) throw fsError('EIO', `short write while scrubbing ${path}`);
      }
      await handle.datasync();
    } finally {
      await handle.close();
    }
    zeroed += spans.length;
  }
  if (unlinked) await fs.syncDir(quarantine);
  return zeroed;
}
