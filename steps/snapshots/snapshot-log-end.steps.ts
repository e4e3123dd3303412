import { When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { SnapshotContents } from '../../src/snapshot/snapshot-file';
import { recordSpans } from '../support/damage';
import { segmentPaths } from '../support/log-files';
import { rewriteSnapshot as rewriteWithValidChecksum } from '../support/snapshot-files';
import type { EventfoldWorld } from '../support/world';

/** Rewrites a snapshot of format 2 or later with a change, with a valid checksum: only the log-end check can catch it. */
function rewriteSnapshot(world: EventfoldWorld, position: number, change: (contents: SnapshotContents) => void): void {
  rewriteWithValidChecksum(world, position, (contents) => {
    expect(contents.lastRecord, 'a snapshot of format 2 records its last record').to.not.equal(undefined);
    change(contents);
  });
}

When('the recorded log end of the snapshot at position {int} is moved {}', async function (this: EventfoldWorld, position: number, shift: string) {
  const [segment] = await segmentPaths(this);
  const spans = recordSpans(readFileSync(segment));
  rewriteSnapshot(this, position, (contents) => {
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

When('the checksum the snapshot at position {int} holds of its last record no longer matches the log', function (this: EventfoldWorld, position: number) {
  rewriteSnapshot(this, position, (contents) => {
    contents.lastRecord!.crc = (contents.lastRecord!.crc ^ 0x5a5a) >>> 0;
  });
});
