import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventfoldWorld } from './world';

/** Paths of the store's segment files, in order. */
export async function segmentPaths(world: EventfoldWorld): Promise<string[]> {
  const logDir = `${world.storeDir}/log`;
  const names = world.disk ? await world.disk.readdir(logDir) : readdirSync(logDir);
  return names.filter((n) => n.endsWith('.seg')).sort().map((n) => `${logDir}/${n}`);
}

/** Total bytes in the store's segment files. */
export async function logBytes(world: EventfoldWorld): Promise<number> {
  let total = 0;
  for (const path of await segmentPaths(world)) {
    total += world.disk ? world.disk.peek(path).length : statSync(path).size;
  }
  return total;
}

export function storePath(world: EventfoldWorld, ...parts: string[]): string {
  return world.disk ? [world.storeDir, ...parts].join('/') : join(world.storeDir, ...parts);
}
