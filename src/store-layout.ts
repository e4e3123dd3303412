/**
 * The store directory's layout, every name in it spelled once here:
 *
 * ```
 * <store>/
 *   LOCK              the lock file (recovery/lock.ts); never removed
 *   CLEAN             the clean-shutdown marker (recovery/clean-marker.ts)
 *   SYSTEM-STREAMS    says "$" streams are the store's own (file-log/system-streams-marker.ts)
 *   log/              segments <base position>.seg (log/segment-file.ts)
 *   snapshots/        <position>.snap (snapshot/snapshot-file.ts)
 *   subscriptions/    <name>.json checkpoints (snapshot/checkpoint-file.ts)
 *   quarantine/       what a repair set aside, and REPAIR while one runs (recovery/quarantine.ts)
 * ```
 *
 * Paths inside the store are relative (`log/…`) in errors and reports, so
 * they read the same wherever the store lives.
 */
export const LOCK_FILE = 'LOCK';
export const CLEAN_MARKER = 'CLEAN';
export const SYSTEM_STREAMS_MARKER = 'SYSTEM-STREAMS';
export const LOG_DIR = 'log';
export const SNAPSHOT_DIR = 'snapshots';
export const CHECKPOINT_DIR = 'subscriptions';
export const QUARANTINE_DIR = 'quarantine';
/** A repair's plan while it is carried out, in quarantine/ (recovery/REPAIR-FORMAT.md). */
export const REPAIR_RECORD = 'REPAIR';

/** The subdirectories an open makes durable before it accepts an append (recovery/sync-store-directories.ts). */
export const STORE_SUBDIRECTORIES: readonly string[] = [LOG_DIR, SNAPSHOT_DIR, CHECKPOINT_DIR, QUARANTINE_DIR];

/** `log/<name>`: a segment's path inside the store, as errors and reports name it. */
export function logFile(name: string): string {
  return `${LOG_DIR}/${name}`;
}

/** `snapshots/<name>`, as errors and reports name it. */
export function snapshotFile(name: string): string {
  return `${SNAPSHOT_DIR}/${name}`;
}

/** `quarantine/<name>`, as errors and reports name it. */
export function quarantineFile(name: string): string {
  return `${QUARANTINE_DIR}/${name}`;
}

/** `<store>/log`: where the segments are. */
export function logDirOf(store: string): string {
  return `${store}/${LOG_DIR}`;
}

/** `<store>/snapshots`. */
export function snapshotDirOf(store: string): string {
  return `${store}/${SNAPSHOT_DIR}`;
}

/** `<store>/subscriptions`: the subscriptions' checkpoints. */
export function checkpointDirOf(store: string): string {
  return `${store}/${CHECKPOINT_DIR}`;
}

/** `<store>/quarantine`. */
export function quarantineDirOf(store: string): string {
  return `${store}/${QUARANTINE_DIR}`;
}
