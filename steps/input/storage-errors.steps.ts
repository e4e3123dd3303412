import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { AggregateStreamError, StorageError, StoreFailedError, type DiskOperation, type Subscription } from '../../src/index';
import { expectStoreHolds } from '../support/store-holds';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The subscription whose checkpoint writes the disk fails. */
const checkpointing = scenarioState(() => ({ subscription: undefined as Subscription | undefined }));

const OPERATIONS: Record<string, (world: EventfoldWorld) => Promise<unknown>> = {
  'opening the store': (world) => world.openStore(),
  'taking a checkpoint': (world) => world.store!.checkpoint(),
  'closing the store': (world) => world.store!.close(),
  'backing up to /copy': (world) => world.store!.backup('/copy'),
  'reading every event after a reopen': async (world) => {
    for await (const event of world.store!.readAll()) void event;
  },
};

/** "open of the lock file" → the fault's operation and the path it must touch. */
const STEPS: Record<string, { op: DiskOperation; path?: string }> = {
  'open of the lock file': { op: 'open', path: 'LOCK' },
  'open of a segment': { op: 'open', path: '.seg' },
  'snapshot fsync': { op: 'datasync', path: 'snapshots' },
  'snapshot rename': { op: 'rename', path: 'snapshots' },
  'rename of the clean-shutdown marker': { op: 'rename', path: 'CLEAN' },
  'fsync of a copied file': { op: 'datasync', path: '.copy.partial' },
  rename: { op: 'rename' },
};

When(/^the disk fails the next (.+?) with (\w+) while (.+)$/, async function (this: EventfoldWorld, step: string, code: string, operation: string) {
  if (operation === 'the subscription handles 2 more events') {
    const sub = checkpointing(this).subscription!;
    this.disk!.inject({ ...STEPS[step], path: 'subscriptions', error: code as 'EIO' });
    await this.store!.append('acct', [{ type: 'Again' }, { type: 'Again' }]);
    this.lastError = await sub.waitFor(this.store!.position).then(() => undefined, (error: unknown) => error);
    return;
  }
  if (operation === 'opening the store') await this.store!.close();
  if (operation === 'reading every event after a reopen') {
    // A reopened store opens its segments for reading on the first read.
    await this.store!.close();
    await this.openStore();
  }
  if (!STEPS[step]) throw new Error(`no disk step called "${step}"`);
  this.disk!.inject({ ...STEPS[step], error: code as 'EIO' });
  await this.capture(() => OPERATIONS[operation](this));
});

Given('a subscription {string} that stores its checkpoint after every event', async function (this: EventfoldWorld, name: string) {
  const sub = await this.store!.subscribe(name, () => undefined, { checkpointEvery: 1 });
  await sub.waitFor(this.store!.position);
  checkpointing(this).subscription = sub;
});

Then(/^(?:that failed|the subscription stopped) with a StorageError saying "(.*)" whose cause has the code (\w+)$/, function (this: EventfoldWorld, text: string, code: string) {
  const error = this.lastError as StorageError;
  expect(error, 'an error was expected').to.be.instanceOf(StorageError);
  expect(error.message).to.contain(text);
  expect(error.code).to.equal(code);
  expect((error.cause as NodeJS.ErrnoException).code).to.equal(code);
});

Then(/^(?:that failed|the subscription stopped) with a StoreFailedError saying "(.*)" whose cause has the code (\w+)$/, function (this: EventfoldWorld, text: string, code: string) {
  const error = this.lastError as StoreFailedError;
  expect(error, 'an error was expected').to.be.instanceOf(StoreFailedError);
  expect(error.message).to.contain(text.replace(/\\"/g, '"'));
  expect((error.cause as NodeJS.ErrnoException).code).to.equal(code);
});

Then('its error does not say that its handler threw', function (this: EventfoldWorld) {
  const sub = checkpointing(this).subscription!;
  expect(sub.error).to.equal(this.lastError);
  expect((sub.error as Error).message).not.to.contain('handler threw');
});

Then('once the disk is healthy the store opens and holds {int} events', async function (this: EventfoldWorld, count: number) {
  this.disk!.clearFaults();
  if (this.store) await this.store.close().catch(() => undefined);
  await this.openStore();
  await expectStoreHolds(this, count);
});

When('{string} is aggregated with an evolve that throws {string} at version {int}', async function (this: EventfoldWorld, stream: string, message: string, version: number) {
  await this.capture(() =>
    this.store!.aggregateStream(stream, {
      initialState: { seen: 0 },
      evolve(draft: { seen: number }, event: { version: number }) {
        if (event.version === version) throw new Error(message);
        draft.seen++;
      },
    }),
  );
});

Then(/^that failed with an AggregateStreamError saying "(.*)"$/, function (this: EventfoldWorld, text: string) {
  expect(this.lastError).to.be.instanceOf(AggregateStreamError);
  expect((this.lastError as Error).message).to.equal(text.replace(/\\"/g, '"'));
  expect(((this.lastError as Error).cause as Error).message).to.contain('no negative balances');
});
