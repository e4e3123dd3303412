import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a plain file where a store's directory would be expected, for the
 * scenarios that open, or run a command on, something that is not a store.
 */
export function writeFileThatIsNotAStore(dir: string): string {
  const file = join(dir, 'notes.txt');
  writeFileSync(file, 'not a store');
  return file;
}
