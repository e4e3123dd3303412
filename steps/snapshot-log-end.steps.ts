import { When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeSnapshot, encodeSnapshot, type SnapshotContents } from '../src/snapshot/snapshot-file';
import { recordSpans } from './support/damage';
import { segmentPaths, storePath } from './support/log-files';
import type { EventfoldWorld } from './support/world';

/** Rewrites a snapshot with a change, with a valid checksum: only the log-end check can catch it. */
function rewriteSnapshot(world: EventfoldWorld, name: string, change: (contents: SnapshotContents) => void): void {
  const path = storePath(world, 'snapshots', name);
  const contents = decodeSnapshot(readFileSync(path), name);
  expect(contents.lastRecord, 'a snapshot of format 2 records its last record').to.not.equal(undefined);
  change(contents);
  writeFileSync(path, encodeSnapshot(contents));
}

When('the recorded log end of snapshot {string} is moved {}', async function (this: EventfoldWorld, name: string, shift: string) {
  const [segment] = await segmentPaths(this);
  const spans = recordSpans(readFileSync(segment));
  rewriteSnapshot(this, name, (contents) => {
    const last = contents.lastRecord!;
    const previous = spans.find((span) => span.offset + span.length === last.offset)!;
    if (shift === '3 bytes forward') contents.logEnd.offset += 3;
    else if (shift === 'back by one record') contents.logEnd.offset = last.offset;
    else if (shift === 'with its last record') {
      // The end and the record agree with each other, but it is the record before: position 198.
      contents.logEnd.offset = last.offset;
      contents.lastRecord = { ...last, offset: previous.offset, length: previous.length };
    } else expect.fail(`unknown shift "${shift}"`);
  });
});

When('the checksum snapshot {string} holds of its last record no longer matches the log', function (this: EventfoldWorld, name: string) {
  rewriteSnapshot(this, name, (contents) => {
    contents.lastRecord!.crc = (contents.lastRecord!.crc ^ 0x5a5a) >>> 0;
  });
});
