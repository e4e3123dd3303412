import { Given, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { numberedEvents } from '../support/events';
import { HeldSnapshotWrites } from '../support/held-snapshot-writes';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The disk whose snapshot writes wait until the scenario releases them. */
const heldWrites = scenarioState(() => ({ disk: undefined as HeldSnapshotWrites | undefined }));

Given('a new store that takes a snapshot every {int} events, on a disk where snapshot writes wait until released', async function (this: EventfoldWorld, every: number) {
  const disk = (heldWrites(this).disk = new HeldSnapshotWrites());
  await this.openStore({ snapshotEvery: every, fs: disk });
});

When('{int} events are appended in appends of {int} while the first snapshot is still being written', async function (this: EventfoldWorld, count: number, per: number) {
  for (let done = 0; done < count; done += per) {
    await this.store!.append(`stream-${(done / per) % 4}`, numberedEvents(per, done));
  }
  expect(heldWrites(this).disk!.waiting, 'the first snapshot is still being written').to.equal(1);
});

When('the snapshot writes are released and the store is closed', async function (this: EventfoldWorld) {
  heldWrites(this).disk!.releaseAll();
  // close() waits for the snapshots being written.
  await this.store!.close();
});
