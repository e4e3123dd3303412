import { fsError, type FileHandle, type FileLock, type FileSystem, type OpenMode, type WriteMode } from './file-system';
import { seededRandom } from './seeded-random';

/** The disk calls a Fault can match. */
export type DiskOperation = 'write' | 'datasync' | 'create' | 'rename' | 'unlink' | 'syncDir' | 'truncate' | 'open';

/** A failure `inject` arranges for a later call: it fails with an error, writes short, or cuts the power there. */
export interface Fault {
  op: DiskOperation;
  /** Only calls whose path contains this text match. */
  path?: string;
  /** Let this many matching calls through first. */
  after?: number;
  /** Fail the call with this error code. */
  error?: 'EIO' | 'ENOSPC';
  /** Write only this many bytes and report success (a short write). */
  shortWrite?: number;
  /** Cut the power at this call: it never completes and the disk dies. */
  powerLoss?: boolean;
}

/**
 * What survives: nothing unsynced, everything, or everything but the last
 * unsynced write of each file, of which only a prefix lands (a byte count,
 * or a fraction of that write).
 */
export type PowerLossPolicy =
  | 'drop-unsynced'
  | 'keep-unsynced'
  | { tearLastWriteAt: number }
  | { tearLastWriteFraction: number }
  | PageWritebackPolicy;

/**
 * The page cache writes dirty pages back in any order, so after a power loss
 * any subset of a file's dirty 4 KiB pages may be on the disk. Pages are
 * numbered per file in ascending file order among its dirty pages
 * (`dirtyPages(path)`), 0 first. `survivingPages` names the ones that
 * landed (the same indices for every file); `pageSeed` picks each page with
 * probability one half from a seeded generator instead. A page that did not
 * land holds what the disk held before (zeros past the old end). The file
 * keeps its old length, extended to the end of the last page that landed
 * (but not past its new length).
 */
export type PageWritebackPolicy = { survivingPages: number[] } | { pageSeed: number };

export const PAGE_BYTES = 4096;

interface UndoRecord {
  /** Length of the file before the operation. */
  length: number;
  position: number;
  /** Bytes the operation overwrote (within the old length). */
  previous: Buffer;
  /** What the operation wrote (empty for a truncation). */
  written: Buffer;
  truncatedTo?: number;
}

class Inode {
  data = Buffer.alloc(0);
  length = 0;
  /** Operations since the last datasync, oldest first, with what they replaced. */
  unsynced: UndoRecord[] = [];

  content(): Buffer {
    return this.data.subarray(0, this.length);
  }

  ensureCapacity(size: number): void {
    if (size <= this.data.length) return;
    const grown = Buffer.alloc(Math.max(size, this.data.length * 2, 4096));
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }

  write(bytes: Uint8Array, position: number, track: boolean): void {
    const end = position + bytes.length;
    if (track) {
      const overlapEnd = Math.min(end, this.length);
      const previous = position < overlapEnd ? Buffer.from(this.data.subarray(position, overlapEnd)) : Buffer.alloc(0);
      this.unsynced.push({ length: this.length, position, previous, written: Buffer.from(bytes) });
    }
    this.ensureCapacity(end);
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(bytes, position);
    this.length = Math.max(this.length, end);
  }

  truncate(size: number, track: boolean): void {
    if (track) {
      const previous = size < this.length ? Buffer.from(this.data.subarray(size, this.length)) : Buffer.alloc(0);
      this.unsynced.push({ length: this.length, position: size, previous, written: Buffer.alloc(0), truncatedTo: size });
    }
    this.ensureCapacity(size);
    if (size > this.length) this.data.fill(0, this.length, size);
    this.length = size;
  }

  /**
   * Makes the write just made at `position` (`length` bytes, the last entry
   * of `unsynced`) durable, as an O_DSYNC write on Linux: the whole pages it
   * touched are written back, and the journal commit that makes its new
   * length durable commits every earlier length change too (truncations
   * included: they commit in order). Earlier unsynced writes to other pages
   * stay at risk; where they lay past the old durable end, the platter holds
   * zeros until they land (the length is durable, their blocks were never
   * written). What reads see is unchanged. Only a write made with earlier
   * unsynced writes in the file pays more than clearing the list: what is
   * still at risk is kept as one unsynced write, from the first byte where
   * the platter and the file differ.
   */
  syncLastWrite(position: number, length: number): void {
    if (this.unsynced.length === 1) {
      this.unsynced = [];
      return;
    }
    this.unsynced.pop();
    const before = this.durableContent();
    let cutTo = Infinity;
    for (const op of this.unsynced) if (op.truncatedTo !== undefined) cutTo = Math.min(cutTo, op.truncatedTo);
    const now = this.content();
    const platter = Buffer.alloc(now.length);
    before.copy(platter, 0, 0, Math.min(before.length, cutTo, now.length));
    const firstPage = Math.floor(position / PAGE_BYTES) * PAGE_BYTES;
    now.copy(platter, firstPage, firstPage, Math.min(now.length, Math.ceil((position + length) / PAGE_BYTES) * PAGE_BYTES));
    let first = 0;
    while (first < now.length && platter[first] === now[first]) first++;
    this.unsynced =
      first === now.length ? [] : [{ length: platter.length, position: first, previous: Buffer.from(platter.subarray(first)), written: Buffer.from(now.subarray(first)) }];
  }

  /** The content as the platter holds it: every unsynced operation undone. */
  durableContent(): Buffer {
    const copy = new Inode();
    copy.write(this.content(), 0, false);
    for (let i = this.unsynced.length - 1; i >= 0; i--) {
      const op = this.unsynced[i];
      copy.length = op.length;
      copy.ensureCapacity(op.length);
      op.previous.copy(copy.data, op.position);
    }
    return Buffer.from(copy.content());
  }
}

/**
 * An in-memory disk that behaves like a real one under failure, for tests and
 * for users who want to torture their own deployment:
 *
 * - Nothing written is durable until `datasync`; no creation, rename,
 *   removal or new directory (mkdir) is durable until `syncDir` of its
 *   parent directory.
 * - `powerLoss(policy)` returns the disk as it comes back after the power
 *   failed: unsynced writes dropped, kept, the last one torn at a byte, or
 *   written back page by page in any order (any subset of the dirty 4 KiB
 *   pages of a file survives, chosen explicitly or by a seed).
 *   The old disk is dead from then on: every call fails with EIO.
 * - `inject(fault)` fails a chosen call with EIO or ENOSPC, makes a write
 *   short, or cuts the power at that call. A write through a handle opened
 *   for durable writes is two calls, a write and a datasync, for faults and
 *   for `calls`.
 *
 * It also backs `EventStore.inMemory()`, so the in-memory store runs exactly
 * the code paths of the on-disk one.
 */
export class SimulatedDisk implements FileSystem {
  private files = new Map<string, Inode>();
  /** The directory entries as they would be found after a power loss. */
  private durableFiles = new Map<string, Inode>();
  private dirs = new Set<string>(['/']);
  /** The directories as they would be found after a power loss. */
  private durableDirs = new Set<string>(['/']);
  private faults: Array<Fault & { seen: number }> = [];
  /** Locked files. Locks live in memory only: a disk that came back from a power loss has none. */
  private locks = new Set<Inode>();
  private dead = false;
  /** How many calls of each kind reached the disk (useful to aim faults). */
  readonly calls: Record<DiskOperation, number> = {
    write: 0, datasync: 0, create: 0, rename: 0, unlink: 0, syncDir: 0, truncate: 0, open: 0,
  };

  /** When set to an array, every call that reaches the disk is recorded in it. */
  trace: Array<{ op: DiskOperation; path: string }> | undefined;
  /** The largest single read asked of this disk, in bytes. */
  largestRead = 0;

  inject(fault: Fault): void {
    this.faults.push({ ...fault, seen: 0 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  get isDead(): boolean {
    return this.dead;
  }

  /**
   * The process using the disk dies, the machine does not: what it wrote stays
   * in the page cache, unsynced as it was (a power cut later can still take
   * it), and its locks go with it. Returns the disk as the next process finds
   * it; this one is dead (the old process's handles fail, and faults injected
   * into it, aimed at that process's calls, are not carried over).
   */
  processCrash(): SimulatedDisk {
    this.dead = true;
    const after = new SimulatedDisk();
    after.files = new Map(this.files);
    after.durableFiles = new Map(this.durableFiles);
    after.dirs = new Set(this.dirs);
    after.durableDirs = new Set(this.durableDirs);
    return after;
  }

  /** Cuts the power now and returns the disk as it is found when the power comes back. */
  powerLoss(policy: PowerLossPolicy = 'drop-unsynced'): SimulatedDisk {
    this.dead = true;
    const after = new SimulatedDisk();
    // A directory survives only if its entry, and every ancestor's, was made durable.
    const survives = (path: string): boolean => path === '/' || (this.durableDirs.has(path) && survives(parentOf(path)));
    after.dirs = new Set([...this.durableDirs].filter(survives));
    after.durableDirs = new Set(after.dirs);
    const rebuilt = new Map<Inode, Inode>();
    for (const [path, inode] of this.durableFiles) {
      if (!survives(parentOf(path))) continue;
      let fresh = rebuilt.get(inode);
      if (!fresh) {
        fresh = new Inode();
        fresh.write(survivingContent(inode, policy), 0, false);
        rebuilt.set(inode, fresh);
      }
      after.files.set(path, fresh);
      after.durableFiles.set(path, fresh);
    }
    return after;
  }

  /** An independent copy of this disk as it is now (unsynced writes included, all made durable). */
  clone(): SimulatedDisk {
    const copy = new SimulatedDisk();
    copy.dirs = new Set(this.dirs);
    copy.durableDirs = new Set(this.dirs);
    for (const [path, inode] of this.files) {
      const fresh = new Inode();
      fresh.write(inode.content(), 0, false);
      copy.files.set(path, fresh);
      copy.durableFiles.set(path, fresh);
    }
    return copy;
  }

  /** The 4 KiB pages of a file (by page number: file offset / 4096) that unsynced writes touched, ascending. */
  dirtyPages(path: string): number[] {
    return dirtyPagesOf(this.inode(path));
  }

  /** Bytes written to a file since its last datasync. */
  unsyncedBytes(path: string): number {
    return this.inode(path).unsynced.reduce((sum, op) => sum + op.written.length, 0);
  }

  /** The current bytes of a file (for tests that damage or inspect files). */
  peek(path: string): Buffer {
    return Buffer.from(this.inode(path).content());
  }

  /** Replaces a file's bytes durably, as an outside agent (bit rot, an operator) would. */
  overwrite(path: string, bytes: Uint8Array): void {
    const inode = this.inode(path);
    inode.length = 0;
    inode.write(bytes, 0, false);
    inode.unsynced = [];
  }

  private check(op: DiskOperation, path: string): { shortWrite?: number } {
    if (this.dead) throw fsError('EIO', `disk is gone (power lost) during ${op} ${path}`);
    this.calls[op]++;
    this.trace?.push({ op, path });
    for (const fault of this.faults) {
      if (fault.op !== op || (fault.path && !path.includes(fault.path))) continue;
      if (fault.seen++ < (fault.after ?? 0)) continue;
      this.faults.splice(this.faults.indexOf(fault), 1);
      if (fault.powerLoss) {
        this.dead = true;
        throw fsError('EIO', `power lost during ${op} ${path}`);
      }
      if (fault.error) throw fsError(fault.error, `injected fault on ${op} ${path}`);
      return { shortWrite: fault.shortWrite };
    }
    return {};
  }

  private inode(path: string): Inode {
    const inode = this.files.get(normalize(path));
    if (!inode) throw fsError('ENOENT', `no such file ${path}`);
    return inode;
  }

  async mkdirp(dir: string): Promise<void> {
    let path = '';
    for (const part of normalize(dir).split('/').filter(Boolean)) {
      path += '/' + part;
      this.dirs.add(path);
    }
  }

  async readdir(dir: string): Promise<string[]> {
    const prefix = normalize(dir) + '/';
    if (!this.dirs.has(normalize(dir))) throw fsError('ENOENT', `no such directory ${dir}`);
    const names: string[] = [];
    for (const path of [...this.files.keys(), ...this.dirs]) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/') && path.length > prefix.length) {
        names.push(path.slice(prefix.length));
      }
    }
    return names.sort();
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(normalize(path)) || this.dirs.has(normalize(path));
  }

  async open(path: string, mode: OpenMode = 'write'): Promise<FileHandle> {
    this.check('open', path);
    return new SimulatedHandle(this, this.inode(path), path, mode === 'read', mode === 'durable-writes');
  }

  async tryLock(path: string): Promise<FileLock | null> {
    const key = normalize(path);
    // Like the kernel's, the lock belongs to the file, not to its name.
    const existing = this.files.get(key);
    if (existing && this.locks.has(existing)) return null;
    const handle = existing ? await this.open(path) : await this.create(path);
    const inode = this.files.get(key)!;
    this.locks.add(inode);
    return {
      handle,
      stillInPlace: async () => this.files.get(key) === inode,
      release: async () => {
        this.locks.delete(inode);
        await handle.close();
      },
    };
  }

  async isLocked(path: string): Promise<boolean> {
    const inode = this.files.get(normalize(path));
    return inode !== undefined && this.locks.has(inode);
  }

  async create(path: string, mode: WriteMode = 'write'): Promise<FileHandle> {
    this.check('create', path);
    const key = normalize(path);
    if (this.files.has(key)) throw fsError('EEXIST', `file exists ${path}`);
    if (!this.dirs.has(parentOf(key))) throw fsError('ENOENT', `no such directory ${parentOf(key)}`);
    const inode = new Inode();
    this.files.set(key, inode);
    return new SimulatedHandle(this, inode, path, false, mode === 'durable-writes');
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.dead) throw fsError('EIO', `disk is gone (power lost) during read ${path}`);
    return Buffer.from(this.inode(path).content());
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', from);
    const inode = this.inode(from);
    this.files.delete(normalize(from));
    this.files.set(normalize(to), inode);
  }

  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    this.inode(path);
    this.files.delete(normalize(path));
  }

  async syncDir(dir: string): Promise<void> {
    this.check('syncDir', dir);
    const key = normalize(dir);
    for (const sub of this.dirs) if (sub !== '/' && parentOf(sub) === key) this.durableDirs.add(sub);
    for (const path of [...this.durableFiles.keys()]) {
      if (parentOf(path) === key) this.durableFiles.delete(path);
    }
    for (const [path, inode] of this.files) {
      if (parentOf(path) === key) this.durableFiles.set(path, inode);
    }
  }

  /** @internal used by handles so that faults and death apply to them too. */
  gate(op: DiskOperation, path: string): { shortWrite?: number } {
    return this.check(op, path);
  }

  /** @internal */
  get alive(): boolean {
    return !this.dead;
  }
}

class SimulatedHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly disk: SimulatedDisk,
    private readonly inode: Inode,
    private readonly path: string,
    private readonly readOnly = false,
    readonly durableWrites = false,
  ) {}

  private ensureOpen(writing = false): void {
    if (this.closed) throw fsError('EBADF', `file handle closed: ${this.path}`);
    if (!this.disk.alive) throw fsError('EIO', `disk is gone (power lost): ${this.path}`);
    if (writing && this.readOnly) throw fsError('EBADF', `file opened for reading only: ${this.path}`);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.ensureOpen();
    this.disk.largestRead = Math.max(this.disk.largestRead, length);
    const available = Math.max(0, Math.min(length, this.inode.length - position));
    buffer.set(this.inode.data.subarray(position, position + available), offset);
    return available;
  }

  async write(buffer: Uint8Array, position: number): Promise<number> {
    this.ensureOpen(true);
    const { shortWrite } = this.disk.gate('write', this.path);
    const bytes = shortWrite !== undefined ? buffer.subarray(0, Math.min(shortWrite, buffer.length)) : buffer;
    this.inode.write(bytes, position, true);
    if (this.durableWrites) {
      // Like O_DSYNC: the write, then the sync of what it wrote, with the faults and the power cuts of both.
      this.disk.gate('datasync', this.path);
      this.inode.syncLastWrite(position, bytes.length);
    }
    return bytes.length;
  }

  async datasync(): Promise<void> {
    this.ensureOpen(true);
    this.disk.gate('datasync', this.path);
    this.inode.unsynced = [];
  }

  async truncate(length: number): Promise<void> {
    this.ensureOpen(true);
    this.disk.gate('truncate', this.path);
    this.inode.truncate(length, true);
  }

  async size(): Promise<number> {
    this.ensureOpen();
    return this.inode.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function dirtyPagesOf(inode: Inode): number[] {
  const pages = new Set<number>();
  for (const op of inode.unsynced) {
    const from = Math.min(op.position, op.length);
    const to = op.truncatedTo !== undefined ? Math.max(op.length, op.truncatedTo) : op.position + op.written.length;
    for (let page = Math.floor(from / PAGE_BYTES); page * PAGE_BYTES < to; page++) pages.add(page);
  }
  return [...pages].sort((a, b) => a - b);
}


function pagesWrittenBack(inode: Inode, policy: PageWritebackPolicy): Buffer {
  const before = inode.durableContent();
  const after = inode.content();
  const dirty = dirtyPagesOf(inode);
  const random = 'pageSeed' in policy ? seededRandom(policy.pageSeed) : undefined;
  const chosen = new Set('survivingPages' in policy ? policy.survivingPages : []);
  let length = Math.min(before.length, after.length);
  const landed: number[] = [];
  dirty.forEach((page, i) => {
    if (random ? random() < 0.5 : chosen.has(i)) landed.push(page);
  });
  for (const page of landed) length = Math.max(length, Math.min(after.length, (page + 1) * PAGE_BYTES));
  const result = Buffer.alloc(length);
  before.copy(result, 0, 0, Math.min(before.length, length));
  for (const page of landed) {
    const start = page * PAGE_BYTES;
    if (start < length) after.copy(result, start, start, Math.min(length, start + PAGE_BYTES, after.length));
  }
  return result;
}

function survivingContent(inode: Inode, policy: PowerLossPolicy): Buffer {
  if (policy === 'drop-unsynced' || inode.unsynced.length === 0) return inode.durableContent();
  if (policy === 'keep-unsynced') return Buffer.from(inode.content());
  if ('survivingPages' in policy || 'pageSeed' in policy) return pagesWrittenBack(inode, policy);
  const replay = new Inode();
  replay.write(inode.durableContent(), 0, false);
  inode.unsynced.forEach((op, index) => {
    const last = index === inode.unsynced.length - 1;
    if (op.truncatedTo !== undefined) replay.truncate(op.truncatedTo, false);
    else if (!last) replay.write(op.written, op.position, false);
    else {
      const keep = 'tearLastWriteAt' in policy ? policy.tearLastWriteAt : Math.floor(op.written.length * policy.tearLastWriteFraction);
      replay.write(op.written.subarray(0, keep), op.position, false);
    }
  });
  return Buffer.from(replay.content());
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (!part || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}
