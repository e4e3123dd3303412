import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import type { EventfoldWorld } from './world';

/** Every file under `dir` (relative path → SHA-256 of its bytes), and every directory: proof that nothing changed. */
export function hashTree(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) {
        tree[relative(dir, full) + '/'] = 'directory';
        walk(full);
      } else {
        tree[relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
      }
    }
  };
  walk(dir);
  return tree;
}

/** Notes every file under `dir` before something that must change none of them (a read-only open, a CLI command). */
export function rememberFiles(world: EventfoldWorld, dir: string): void {
  world.filesBefore = { dir, hashes: hashTree(dir) };
}

/** Every file and directory `rememberFiles` noted is still there, byte for byte, and nothing was added. */
export function expectFilesUnchanged(world: EventfoldWorld): void {
  const before = world.filesBefore;
  expect(before, 'the files were noted before (rememberFiles)').to.not.equal(undefined);
  expect(hashTree(before!.dir)).to.deep.equal(before!.hashes);
}
