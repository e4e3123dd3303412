import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, NodeFileSystem, type FileSystem } from '../../src/index';
import { inspectStore, type StoreInspection } from '../../src/recovery/inspect';
import { startChildWithInput, type ChildLines } from '../support/child-lines';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** What the steps about looking at a store another process uses share. */
const inUse = scenarioState(() => ({
  /** The process that keeps asking who has the store open, and how often it asked. */
  asker: undefined as ChildLines | undefined,
  asked: 0,
  opened: 0,
  refusals: [] as string[],
  inspection: undefined as StoreInspection | undefined,
}));

Given('another process that keeps asking who has the store open, as eventfold info does', async function (this: EventfoldWorld) {
  const asker = startChildWithInput(this, 'ask-owner.ts', [this.storeDir]);
  await asker.next(/^ready$/);
  inUse(this).asker = asker;
});

When('this process opens and closes the store {int} times', async function (this: EventfoldWorld, rounds: number) {
  const refusals: string[] = [];
  let opened = 0;
  for (let i = 0; i < rounds; i++) {
    try {
      const store = await EventStore.open(this.storeDir);
      opened++;
      await store.close();
    } catch (error) {
      refusals.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  const asker = inUse(this).asker!;
  asker.child.stdin!.end();
  const asked = Number((await asker.next(/^asked \d+$/)).split(' ')[1]);
  Object.assign(inUse(this), { asked, opened, refusals });
  await this.figures({ label: 'opens that succeeded', value: opened }, { label: 'owner probes meanwhile', value: asked });
});

Then('all {int} opens succeed', function (this: EventfoldWorld, rounds: number) {
  expect(inUse(this).refusals, 'refusals').to.deep.equal([]);
  expect(inUse(this).opened).to.equal(rounds);
});

Then('the other process asked at least once', function (this: EventfoldWorld) {
  expect(inUse(this).asked).to.be.greaterThan(0);
});

Given('a store that snapshots only on checkpoint, with {int} events and a checkpoint', async function (this: EventfoldWorld, count: number) {
  await this.openStore({ snapshotEvery: 0 });
  await this.store!.append('orders', Array.from({ length: count }, (_, i) => ({ type: 'Placed', data: { i } })));
  await this.store!.checkpoint();
});

When(
  'verify reads the store while its owner appends {int} events and checkpoints just after verify has read the log',
  async function (this: EventfoldWorld, count: number) {
    const owner = this.store!;
    let ownerDone: Promise<void> | undefined;
    // Every file access verify makes after its log scan waits until the owner has appended and snapshotted.
    const gated = gateAfter(new NodeFileSystem(), () => ownerDone);
    const inspection = await inspectStore(this.storeDir, gated, (scanned, total) => {
      if (scanned === total && !ownerDone) {
        ownerDone = (async () => {
          await owner.append('orders', Array.from({ length: count }, (_, i) => ({ type: 'Placed', data: { i } })));
          await owner.checkpoint();
        })();
      }
    });
    await ownerDone;
    inUse(this).inspection = inspection;
  },
);

Then('verify finds the store healthy with {int} events and no problem', function (this: EventfoldWorld, events: number) {
  const inspection = inUse(this).inspection!;
  expect(inspection.problems).to.deep.equal([]);
  expect(inspection.healthy).to.equal(true);
  expect(inspection.events).to.equal(events);
});

/** A file system whose every call first waits for `gate()` (when it returns a promise). */
function gateAfter(fs: FileSystem, gate: () => Promise<void> | undefined): FileSystem {
  return new Proxy(fs, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await gate();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
