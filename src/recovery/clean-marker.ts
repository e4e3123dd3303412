import CRC32 from 'crc-32';
import { writeFileAtomic, type FileSystem } from '../fs/file-system';
import { CLEAN_MARKER } from '../store-layout';

// The clean-shutdown marker in the store directory (format: src/log/FORMAT.md, "CLEAN marker").

export interface CleanMarker {
  /** Last durable position at the clean close (-1: empty store). */
  position: number;
}

/**
 * The marker a clean close left, or undefined when there is none. A marker
 * that cannot be read as one (damaged, foreign) is treated as absent: the
 * open then applies the rules for a crash, which never trust more than the
 * log itself proves.
 */
export async function readCleanMarker(fs: FileSystem, directory: string): Promise<{ marker: CleanMarker | undefined; present: boolean }> {
  const path = `${directory}/${CLEAN_MARKER}`;
  if (!(await fs.exists(path))) return { marker: undefined, present: false };
  try {
    const parsed = JSON.parse((await fs.readFile(path)).toString('utf8')) as { position?: unknown; closedAt?: unknown; crc?: unknown };
    const { position, closedAt, crc } = parsed ?? {};
    if (typeof position === 'number' && Number.isSafeInteger(position) && position >= -1 && typeof closedAt === 'string' && crc === markerCrc(position, closedAt)) {
      return { marker: { position }, present: true };
    }
  } catch {
    // falls through: unreadable
  }
  return { marker: undefined, present: true };
}

/** Leaves the marker durably (temp file, fsync, rename, directory fsync). */
export async function writeCleanMarker(fs: FileSystem, directory: string, position: number): Promise<void> {
  await writeFileAtomic(fs, directory, CLEAN_MARKER, encodeCleanMarker(position));
}

/** The marker's bytes for a store whose log ends at `position` (also for copies made by a backup). */
export function encodeCleanMarker(position: number): Buffer {
  const closedAt = new Date().toISOString();
  return Buffer.from(JSON.stringify({ position, closedAt, crc: markerCrc(position, closedAt) }));
}

/** CRC-32 of `<position> <closedAt>`: a flipped digit must not move the position the open trusts. */
function markerCrc(position: number, closedAt: string): number {
  return CRC32.str(`${position} ${closedAt}`) >>> 0;
}
