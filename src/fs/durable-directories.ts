/**
 * The directories this process has itself made durable (their entry in their
 * parent fsynced), per file system (any object standing for one: this
 * module needs nothing of it but its identity). `ensureDir` skips only these: a directory
 * that merely exists may have been made by an attempt whose parent fsync
 * failed, and its entry could still vanish in a power cut.
 */
const known = new WeakMap<object, Set<string>>();

export function isKnownDurable(fs: object, dir: string): boolean {
  return known.get(fs)?.has(normalize(dir)) ?? false;
}

export function markDurable(fs: object, dir: string): void {
  let set = known.get(fs);
  if (!set) known.set(fs, (set = new Set()));
  set.add(normalize(dir));
}

export function parentDirectory(dir: string): string {
  const trimmed = dir.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return cut > 0 ? trimmed.slice(0, cut) : cut === 0 ? '/' : '.';
}

function normalize(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}
