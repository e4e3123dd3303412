import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { queryDatabase } from './postgres';
import type { EventfoldWorld } from './world';
import { logDirOf } from '../../src/store-layout';

/** Paths of the store's segment files, in order. */
export async function segmentPaths(world: EventfoldWorld): Promise<string[]> {
  const logDir = logDirOf(world.storeDir);
  const names = world.disk ? await world.disk.readdir(logDir) : readdirSync(logDir);
  return names.filter((n) => n.endsWith('.seg')).sort().map((n) => `${logDir}/${n}`);
}

/** Total bytes in the store's segment files (on PostgreSQL: the bytes of its event rows, and its position counter). */
export async function logBytes(world: EventfoldWorld): Promise<number> {
  if (world.database) {
    const [{ bytes }] = await queryDatabase<{ bytes: string }>(
      world.database,
      `SELECT (SELECT next_position FROM eventfold_log) + coalesce(sum(octet_length(stream) + octet_length(type) + octet_length(id) + octet_length(data) + coalesce(octet_length(metadata), 0)), 0) AS bytes
       FROM eventfold_events`,
    );
    return Number(bytes);
  }
  let total = 0;
  for (const path of await segmentPaths(world)) {
    total += world.disk ? world.disk.peek(path).length : statSync(path).size;
  }
  return total;
}

/** A path inside the store directory (`storePath(world, LOG_DIR)`), on the simulated disk or the real one. */
export function storePath(world: EventfoldWorld, ...parts: string[]): string {
  return world.disk ? [world.storeDir, ...parts].join('/') : join(world.storeDir, ...parts);
}
