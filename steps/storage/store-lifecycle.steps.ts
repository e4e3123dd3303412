import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, NodeFileSystem } from '../../src/index';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** A close left running while the scenario goes on, and the working directory to return to after a step changed it. */
const storeLife = scenarioState(() => ({ firstClose: undefined as Promise<void> | undefined, originalCwd: undefined as string | undefined }));

async function countEvents(store: EventStore): Promise<number> {
  let count = 0;
  for await (const _ of store.readAll()) count++;
  return count;
}

When('this process opens the same store with a projection that fails on every event', async function (this: EventfoldWorld) {
  const failing = { initialState: {}, version: 1, evolve: () => { throw new Error('cannot fold this event'); } };
  await this.capture(() => this.openStore({ projections: { failing } }));
});

Then('its recovery report names the killed process as the owner that never closed the store', function (this: EventfoldWorld) {
  expect(this.lastError, 'the open should succeed').to.equal(undefined);
  expect(this.store!.recovery.staleLockOwner).to.equal(this.childOwnerPid);
});

When('close is called twice and only the second call is awaited', async function (this: EventfoldWorld) {
  const first = this.store!.close();
  await this.store!.close();
  storeLife(this).firstClose = first;
});

Then('the store opens again at once with {int} events', async function (this: EventfoldWorld, count: number) {
  const store = await EventStore.open(this.storeLocation);
  try {
    expect(await countEvents(store)).to.equal(count);
  } finally {
    await store.close();
    await storeLife(this).firstClose;
  }
});

Given(
  'a working directory {string} and another one {string}, each holding an empty folder {string}',
  function (this: EventfoldWorld, first: string, second: string, folder: string) {
    for (const place of [first, second]) mkdirSync(join(this.dir, place, folder), { recursive: true });
    storeLife(this).originalCwd = process.cwd();
  },
);

Given(
  'a store opened as the relative directory {string} from {string} with an explicit NodeFileSystem and segments of {int} KiB',
  async function (this: EventfoldWorld, folder: string, place: string, kib: number) {
    process.chdir(join(this.dir, place));
    try {
      this.store = await EventStore.open(folder, { fs: new NodeFileSystem(), segmentSize: kib * 1024 });
    } catch (error) {
      process.chdir(storeLife(this).originalCwd!);
      throw error;
    }
  },
);

When('the process changes its working directory to {string}', function (this: EventfoldWorld, place: string) {
  process.chdir(join(this.dir, place));
});

When('{string} appends {int} more events', async function (this: EventfoldWorld, stream: string, count: number) {
  try {
    for (let i = 0; i < count; i++) await this.store!.append(stream, [{ type: 'Placed', data: { i } }]);
  } catch (error) {
    process.chdir(storeLife(this).originalCwd!);
    throw error;
  }
});

Then('the {string} of {string} holds {int} events', async function (this: EventfoldWorld, folder: string, place: string, count: number) {
  // Back where the run started before anything can fail (the working directory is the whole process's).
  process.chdir(storeLife(this).originalCwd!);
  const store = await EventStore.open(join(this.dir, place, folder));
  try {
    expect(await countEvents(store)).to.equal(count);
  } finally {
    await store.close();
  }
});

Then('the {string} of {string} is still empty', function (this: EventfoldWorld, folder: string, place: string) {
  expect(readdirSync(join(this.dir, place, folder))).to.deep.equal([]);
});

After(function (this: EventfoldWorld) {
  // A scenario that failed half-way must not leave the whole run in another working directory.
  if (storeLife(this).originalCwd) process.chdir(storeLife(this).originalCwd!);
});
