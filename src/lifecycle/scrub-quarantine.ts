import type { FileSystem } from '../fs/file-system';
import { fsError } from '../fs/file-system';
import { AT_TIMESTAMP, checkFrame, decodeEvent, decodeHeader, FRAME_HEADER_BYTES, type RecordedEvent } from '../log/record';
import { isSystemStream } from './stream-metadata';
import { quarantineDirOf, REPAIR_RECORD } from '../store-layout';

/** Quarantined log bytes: whole segments (`<id>-<segment>.seg`) and cut tails (`<id>-<segment>.seg-from-<offset>`). */
const LOG_BYTES = /\.seg(-from-\d+)?$/;

/**
 * A repair sets damaged log bytes aside in `quarantine/` and never deletes
 * them; a scavenge must still take removed events off the disk there too
 * (an erasure request covers every copy). Erasure wins over forensics: in
 * each quarantined file of log bytes, the scavenge keeps only what it can
 * prove is an event still kept — a checked record (both CRCs pass; found at
 * any byte offset, since the bytes may start anywhere) whose event `removed`
 * says is not gone. Everything else is overwritten with zeros, in place
 * (the file keeps its size): records of removed events, and every byte that
 * cannot be read as a whole record — a damaged record (the very one a repair
 * quarantines; its stream cannot be trusted, its bytes may be anyone's),
 * torn or unreadable bytes. Until the first scavenge after a repair the
 * quarantine keeps them as cut, for inspection. Then the file is
 * fdatasync'ed. Snapshots a repair set aside there are removed, like the
 * store's own (their states may hold removed data). The repair records
 * (`REPAIR`, `*.repair`) hold no event data and stay. Returns the number of
 * spans zeroed: removed events' records, and runs of unprovable bytes.
 */
export async function scrubQuarantine(fs: FileSystem, dir: string, removed: (stream: string, version: number, timestamp: number) => boolean, redact?: (event: RecordedEvent) => unknown): Promise<number> {
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
    if (!LOG_BYTES.test(name)) continue;
    const bytes = await fs.readFile(path);
    const spans = spansToZero(bytes, removed, redact);
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

/** The spans of `bytes` that are not a checked record of a kept event, and hold anything but zeros. */
function spansToZero(bytes: Buffer, removed: (stream: string, version: number, timestamp: number) => boolean, redact: ((event: RecordedEvent) => unknown) | undefined): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const zero = (from: number, to: number) => {
    if (to > from && bytes.subarray(from, to).some((b) => b !== 0)) spans.push([from, to - from]);
  };
  /** Start of the bytes not yet proven to be a kept event's record. */
  let unproven = 0;
  for (let at = 0; at + FRAME_HEADER_BYTES < bytes.length; ) {
    const check = checkFrame(bytes, at, bytes.length - at);
    if (check.kind !== 'ok') {
      at++;
      continue;
    }
    const size = FRAME_HEADER_BYTES + check.length;
    const header = decodeHeader(bytes, at);
    // A kept event's record stays; a removed one's is zeroed (a span of its own, so the count says how many).
    zero(unproven, at);
    // A record of the store's own streams that the log erases (a `$metadata` record replaced since, or of a stream deleted for good) is zeroed whole.
    const erased = isSystemStream(header.stream) && redact !== undefined && redact(decodeEvent(bytes, at, check.length)) !== null;
    if (erased || removed(header.stream, header.version, bytes.readDoubleLE(at + AT_TIMESTAMP))) zero(at, at + size);
    unproven = at + size;
    at += size;
  }
  zero(unproven, bytes.length);
  return spans;
}
