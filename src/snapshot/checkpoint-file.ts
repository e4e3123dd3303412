import CRC32 from 'crc-32';
import { ensureDir, writeFileAtomic, type FileSystem } from '../fs/file-system';
import { CHECKPOINT_DIR, checkpointDirOf } from '../store-layout';

const SUFFIX = '.json';

/** A checkpoint as read: the position it stores, or why it is damaged. */
export type CheckpointRead = { position: number } | { damaged: string };

/** `subscriptions/<name>.json`: a checkpoint's path inside the store, as errors and reports name it. */
export function checkpointFile(name: string): string {
  return `${CHECKPOINT_DIR}/${name}${SUFFIX}`;
}

function checkpointCrc(position: number): number {
  return CRC32.str(String(position)) >>> 0;
}

export function encodeCheckpoint(position: number): Buffer {
  return Buffer.from(JSON.stringify({ position, crc: checkpointCrc(position) }));
}

/**
 * Decodes a subscription's checkpoint, `subscriptions/<name>.json`: the last global
 * position its handler finished (-1: none yet). Format (see
 * src/snapshot/CHECKPOINT-FORMAT.md): JSON `{ "position": n, "crc": c }` where c
 * is the CRC-32 (unsigned) of the UTF-8 text of n in decimal. Files written
 * before the CRC was added, `{ "position": n }`, are still read. Anything
 * else — not JSON, other keys, a position that is not a whole number ≥ -1, a
 * CRC that does not match — is damage, reported, never guessed around.
 */
export function decodeCheckpoint(bytes: Buffer): CheckpointRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { damaged: bytes.length === 0 ? 'the file is empty' : 'it is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { damaged: 'it is not a JSON object' };
  const keys = Object.keys(parsed).sort().join(',');
  if (keys !== 'crc,position' && keys !== 'position') return { damaged: `unexpected fields ${keys || '(none)'}` };
  const { position, crc } = parsed as { position: unknown; crc?: unknown };
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < -1) return { damaged: `position ${JSON.stringify(position)} is not a whole number >= -1` };
  if (crc !== undefined && crc !== checkpointCrc(position)) return { damaged: `its checksum ${JSON.stringify(crc)} does not match position ${position}` };
  return { position };
}

/** The stored checkpoint, null when there is none. */
export async function readCheckpoint(fs: FileSystem, directory: string, name: string): Promise<CheckpointRead | null> {
  const path = `${directory}/${checkpointFile(name)}`;
  if (!(await fs.exists(path))) return null;
  return decodeCheckpoint(await fs.readFile(path));
}

/** Stores a checkpoint durably: temp file, fsync, rename, directory fsync. */
export async function writeCheckpoint(fs: FileSystem, directory: string, name: string, position: number): Promise<void> {
  const dir = checkpointDirOf(directory);
  await ensureDir(fs, dir);
  await writeFileAtomic(fs, dir, `${name}${SUFFIX}`, encodeCheckpoint(position));
}

/**
 * Every stored checkpoint file as it is on disk, by subscription name, with
 * its path inside the store: the one place checkpoints are listed and read
 * (a backup copies these bytes unchanged).
 */
export async function readCheckpointFiles(fs: FileSystem, directory: string): Promise<Array<{ name: string; file: string; bytes: Buffer }>> {
  const dir = checkpointDirOf(directory);
  if (!(await fs.exists(dir))) return [];
  const found: Array<{ name: string; file: string; bytes: Buffer }> = [];
  for (const file of await fs.readdir(dir)) {
    if (!file.endsWith(SUFFIX)) continue;
    const name = file.slice(0, -SUFFIX.length);
    found.push({ name, file: checkpointFile(name), bytes: await fs.readFile(`${dir}/${file}`) });
  }
  return found;
}

/** Every stored checkpoint, decoded, by subscription name. */
export async function listCheckpoints(fs: FileSystem, directory: string): Promise<Array<{ name: string } & CheckpointRead>> {
  return (await readCheckpointFiles(fs, directory)).map(({ name, bytes }) => ({ name, ...decodeCheckpoint(bytes) }));
}

export interface CheckpointReset {
  name: string;
  /** The position the checkpoint held, past the log's end. */
  from: number;
  /** The log's last position, where the subscription now resumes after. */
  to: number;
}

/**
 * Rewrites every checkpoint past `lastPosition` (the log's last event) to
 * `lastPosition`: the positions after it will be taken by new events, which
 * the subscription has not seen. Idempotent. Damaged checkpoints are left for
 * `subscribe` to report.
 */
export async function resetCheckpointsBeyond(fs: FileSystem, directory: string, lastPosition: number, readOnly = false): Promise<CheckpointReset[]> {
  const reset: CheckpointReset[] = [];
  for (const checkpoint of await listCheckpoints(fs, directory)) {
    if (!('position' in checkpoint) || checkpoint.position <= lastPosition) continue;
    if (!readOnly) await writeCheckpoint(fs, directory, checkpoint.name, lastPosition);
    reset.push({ name: checkpoint.name, from: checkpoint.position, to: lastPosition });
  }
  return reset;
}
