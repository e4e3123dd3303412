import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { DiskOperation, PowerLossPolicy } from '../../src/index';
import { LOG_DIR, SNAPSHOT_DIR } from '../../src/store-layout';
import { numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * One step for every "the power is cut during <work>, at the <disk call>":
 * the fault is injected, the work runs and fails, and the disk comes back
 * as the machine left it (unsynced writes dropped, unless the step says the
 * disk keeps them). The store is abandoned as it was, never closed.
 */

/** The disk call the power is cut at: the first call of that kind on a path holding `path`. */
const DISK_CALLS: Record<string, { op: DiskOperation; path: string }> = {
  // Writing a snapshot (src/snapshot/snapshots.ts).
  'write of the temporary snapshot file': { op: 'write', path: `${SNAPSHOT_DIR}/` },
  'fsync of the temporary snapshot file': { op: 'datasync', path: `${SNAPSHOT_DIR}/` },
  'rename of the snapshot into place': { op: 'rename', path: `${SNAPSHOT_DIR}/` },
  'directory fsync after the snapshot rename': { op: 'syncDir', path: SNAPSHOT_DIR },
  'removal of the oldest snapshot': { op: 'unlink', path: `${SNAPSHOT_DIR}/` },
  // Rolling to a new segment (src/log/segmented-log.ts).
  "fsync of the new segment's header": { op: 'datasync', path: '.seg.tmp' },
  'rename of the new segment into place': { op: 'rename', path: '.seg.tmp' },
  'directory fsync of the new segment': { op: 'syncDir', path: `/${LOG_DIR}` },
  // An append's group-commit batch, and cutting the log back.
  'fsync of its write': { op: 'datasync', path: '' },
  'truncation of the log': { op: 'truncate', path: '' },
};

/** The work the power cut interrupts. */
const WORK: Record<string, (world: EventfoldWorld, count: number) => Promise<unknown>> = {
  'the next checkpoint': (world) => world.store!.checkpoint(),
  append: (world, count) => world.store!.append('meter-1', numberedEvents(count, 20)),
  'the next open': (world) => world.openStore(),
  'the repair': (world) => world.openStore({ repair: 'truncate' }),
};

const powerCut = scenarioState(() => ({
  /** How the interrupted work failed. */
  error: undefined as unknown,
}));

When(
  /^the power is cut during (the next checkpoint|an append of \d+ events?|the next open|the repair), at the (.+?)(, and the disk keeps every unsynced write)?$/,
  async function (this: EventfoldWorld, work: string, call: string, keeps: string | null) {
    // Cucumber passes only top-level groups: the append's size is read from its phrase.
    const count = /^an append of (\d+)/.exec(work)?.[1];
    const fault = DISK_CALLS[call];
    expect(fault, `a known disk call (${Object.keys(DISK_CALLS).join('; ')}), got "${call}"`).to.not.equal(undefined);
    const disk = this.disk!;
    disk.inject({ ...fault, powerLoss: true });
    const run = WORK[count === undefined ? work : 'append'];
    const error = await run(this, Number(count)).then(
      () => expect.fail(`the power cut at the ${call} must stop ${work}`),
      (thrown: unknown) => thrown,
    );
    expect(disk.isDead, `the power was cut at the ${call}`).to.equal(true);
    if (count === undefined) expect(String(error)).to.contain(`power lost during ${fault.op}`);
    else expect((error as Error).name, String(error)).to.equal('StoreFailedError');
    powerCut(this).error = error;
    const policy: PowerLossPolicy = keeps ? 'keep-unsynced' : 'drop-unsynced';
    this.disk = disk.powerLoss(policy);
    this.store = undefined;
  },
);

/** What the disk keeps of the writes not yet fsynced when the power fails. */
const UNSYNCED_WRITES: Record<string, PowerLossPolicy> = {
  'unsynced writes are lost': 'drop-unsynced',
  'the disk drops every unsynced write': 'drop-unsynced',
  'the disk keeps every unsynced write': 'keep-unsynced',
};

/** The power fails between two pieces of work: nothing is interrupted, the store is abandoned open. */
When(/^the power fails and (unsynced writes are lost|the disk drops every unsynced write|the disk keeps every unsynced write)$/, function (this: EventfoldWorld, unsynced: string) {
  this.disk = this.disk!.powerLoss(UNSYNCED_WRITES[unsynced]);
  this.store = undefined;
});

Then('that append was not acknowledged', function (this: EventfoldWorld) {
  expect((powerCut(this).error as Error)?.name).to.equal('StoreFailedError');
});
