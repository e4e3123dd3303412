import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedEvent, SimulatedDisk } from '../../src/index';

/** Every file under `dir` whose bytes contain `text`. */
export function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(text);
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else if (readFileSync(path).includes(needle)) found.push(path);
  };
  walk(dir);
  return found;
}

/** Every file under `dir` of a simulated disk whose bytes contain `text`. */
export async function filesHoldingOnDisk(disk: SimulatedDisk, dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await disk.readdir(dir)) {
    const path = `${dir}/${name}`;
    const isDirectory = await disk.readdir(path).then(
      () => true,
      () => false,
    );
    if (isDirectory) found.push(...(await filesHoldingOnDisk(disk, path, text)));
    else if (disk.peek(path).includes(text)) found.push(path);
  }
  return found;
}

/** A projection keeping each stream's last `note`: its state holds what a stream's events said. */
export const LAST_TEXTS = {
  lastTexts: {
    initialState: {} as Record<string, string>,
    version: 1,
    evolve: (draft: Record<string, string>, event: RecordedEvent) => {
      const note = (event.data as { note?: unknown } | null)?.note;
      if (typeof note === 'string') draft[event.stream] = note;
    },
  },
};
