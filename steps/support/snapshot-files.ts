import { readFileSync, writeFileSync } from 'node:fs';
import { decodeSnapshot, encodeSnapshot, snapshotName, type SnapshotContents } from '../../src/snapshot/snapshot-file';
import { SNAPSHOT_DIR } from '../../src/store-layout';
import { storePath } from './log-files';
import type { EventfoldWorld } from './world';

/**
 * Rewrites the snapshot at `position` with a change, its checksum
 * recomputed (a faulty writer or a hand edit, not damage): only checks
 * against the log can catch it.
 */
export function rewriteSnapshot(world: EventfoldWorld, position: number, change: (contents: SnapshotContents) => void): void {
  const name = snapshotName(position);
  const path = storePath(world, SNAPSHOT_DIR, name);
  const contents = decodeSnapshot(readFileSync(path), name);
  change(contents);
  writeFileSync(path, encodeSnapshot(contents));
}
