import type { CorruptionError } from '../errors';
import { writeFileAtomic, type FileHandle, type FileSystem } from '../fs/file-system';
import type { Segment } from '../log/segmented-log';
import type { RecoveryReport } from './report';
import { countValidRecords } from './scan-log';

export interface Damage {
  error: CorruptionError;
  /** Where the log is cut: end of the last commit before the damage (0: the whole segment). */
  cutOffset: number;
  badOffset: number;
}

/**
 * The explicit repair: everything from the cut on (the rest of the damaged
 * segment and every later segment) moves into `quarantine/`, then the damaged
 * segment is truncated at the cut. Copy first, truncate last, so a crash in
 * the middle loses nothing and a second run reaches the same log.
 */
export async function quarantineFrom(
  fs: FileSystem,
  dir: string,
  segments: Segment[],
  damagedIndex: number,
  handle: FileHandle,
  damage: Damage,
): Promise<NonNullable<RecoveryReport['quarantine']>> {
  const quarantineDir = `${dir}/quarantine`;
  await fs.mkdirp(quarantineDir);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const damaged = segments[damagedIndex];
  const files: string[] = [];
  let bytes = 0;
  let records = 0;

  const size = await handle.size();
  const cut = Buffer.allocUnsafe(size - damage.cutOffset);
  await handle.read(cut, 0, cut.length, damage.cutOffset);
  const cutName = `${stamp}-${damaged.name}-from-${damage.cutOffset}`;
  await writeFileAtomic(fs, quarantineDir, cutName, cut);
  files.push(`quarantine/${cutName}`);
  bytes += cut.length;
  records += countValidRecords(cut);

  for (const later of segments.slice(damagedIndex + 1)) {
    const content = await fs.readFile(`${dir}/log/${later.name}`);
    const name = `${stamp}-${later.name}`;
    await fs.rename(`${dir}/log/${later.name}`, `${quarantineDir}/${name}`);
    files.push(`quarantine/${name}`);
    bytes += content.length;
    records += countValidRecords(content);
  }
  await fs.syncDir(quarantineDir);
  if (damage.cutOffset === 0) {
    await fs.unlink(`${dir}/log/${damaged.name}`);
  } else {
    await handle.truncate(damage.cutOffset);
    await handle.datasync();
  }
  await fs.syncDir(`${dir}/log`);
  return { files, cutFile: `log/${damaged.name}`, cutOffset: damage.cutOffset, bytes, records, reason: damage.error.message };
}
