import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import CRC32 from 'crc-32';
import { mkdirSync } from 'node:fs';
import { SubscriptionActiveError, SubscriptionCheckpointError } from '../../src/index';
import { readBytes, writeBytes } from '../support/damage';
import { storePath } from '../support/log-files';
import { checkpointRow } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { CHECKPOINT_DIR } from '../../src/store-layout';
import { checkpointFile } from '../../src/snapshot/checkpoint-file';

/** The subscription last stopped, a stop still under way, and how to let a held handler finish. */
const stopping = scenarioState(() => ({ stopped: '', stop: undefined as Promise<void> | undefined, release: undefined as (() => void) | undefined }));

function checkpointPath(world: EventfoldWorld, name: string): string {
  return storePath(world, checkpointFile(name));
}

async function storedCheckpoint(world: EventfoldWorld, name: string): Promise<unknown> {
  if (world.database) return checkpointRow(world.database, name);
  return JSON.parse((await readBytes(world, checkpointPath(world, name))).toString('utf8'));
}

When('subscription {string} is stopped', async function (this: EventfoldWorld, name: string) {
  // No timeout and no sleep: the step itself awaits the stop, so a stop that never resolves fails the scenario.
  await this.subscriptions.get(name)!.subscription.stop();
  stopping(this).stopped = name;
});

Then('the stop resolved with the checkpoint at position {int}', async function (this: EventfoldWorld, position: number) {
  const name = stopping(this).stopped;
  await stopping(this).stop;
  const { subscription } = this.subscriptions.get(name)!;
  expect(subscription.finished).to.equal(true);
  expect(subscription.position).to.equal(position);
  expect(await storedCheckpoint(this, name)).to.include({ position });
});

Then('the store closes', async function (this: EventfoldWorld) {
  await this.store!.close();
});

Given('subscription {string} is in the middle of handling position {int}', async function (this: EventfoldWorld, name: string, position: number) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(
    name,
    async (event) => {
      if (event.position === position) {
        entered();
        await released;
      }
      handled.push(event.position);
    },
    { from: -1, checkpointEvery: 100 },
  );
  this.subscriptions.set(name, { subscription, handled });
  await inside;
  stopping(this).release = release;
});

When('subscription {string} is stopped while its handler is still running', function (this: EventfoldWorld, name: string) {
  const { subscription, handled } = this.subscriptions.get(name)!;
  stopping(this).stop = subscription.stop();
  stopping(this).stopped = name;
  expect(subscription.finished, 'the stop waits for the handler').to.equal(false);
  expect(handled).to.deep.equal([0, 1]);
});

When('the handler is allowed to finish', function (this: EventfoldWorld) {
  stopping(this).release!();
});

When('another subscription {string} is started', async function (this: EventfoldWorld, name: string) {
  await this.capture(() => this.store!.subscribe(name, () => undefined));
});

Then('it is refused with a SubscriptionActiveError naming {string}', function (this: EventfoldWorld, name: string) {
  expect(this.lastError).to.be.instanceOf(SubscriptionActiveError);
  expect((this.lastError as SubscriptionActiveError).subscription).to.equal(name);
});

When('the checkpoint of {string} is overwritten with {string}', async function (this: EventfoldWorld, name: string, text: string) {
  if (!this.disk) mkdirSync(storePath(this, CHECKPOINT_DIR), { recursive: true });
  await writeBytes(this, checkpointPath(this, name), Buffer.from(text));
});

When('the position in the checkpoint of {string} is changed to {int}, keeping its checksum', async function (this: EventfoldWorld, name: string, position: number) {
  const stored = (await storedCheckpoint(this, name)) as { position: number; crc: number };
  expect(stored.crc).to.equal(CRC32.str(String(stored.position)) >>> 0);
  await writeBytes(this, checkpointPath(this, name), Buffer.from(JSON.stringify({ ...stored, position })));
});

Then('the recovery report lists the checkpoint of {string} as damaged', function (this: EventfoldWorld, name: string) {
  expect(this.store!.recovery.checkpoints.damaged.map((d) => d.name)).to.deep.equal([name]);
});

When('subscription {string} tries to resume from its checkpoint', async function (this: EventfoldWorld, name: string) {
  await this.capture(() => this.store!.subscribe(name, () => undefined));
});

Then('it is refused with a SubscriptionCheckpointError naming {string} and saying {string}', function (this: EventfoldWorld, file: string, text: string) {
  expect(this.lastError).to.be.instanceOf(SubscriptionCheckpointError);
  expect((this.lastError as SubscriptionCheckpointError).file).to.equal(file);
  expect((this.lastError as Error).message).to.contain(text);
});

When('subscription {string} resumes with onDamagedCheckpoint {string}', async function (this: EventfoldWorld, name: string, mode: 'restart') {
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (event) => void handled.push(event.position), { onDamagedCheckpoint: mode });
  expect(subscription.restartedFromDamagedCheckpoint).to.be.a('string');
  this.subscriptions.set(name, { subscription, handled });
});

Then('the recovery report says checkpoint {string} was reset at open from position {int} to position {int}', function (this: EventfoldWorld, name: string, from: number, to: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.store!.recovery.checkpoints.reset).to.deep.equal([{ name, from, to }]);
});

Then('the inspection shows subscription {string} at position {int} with a lag of {int}', function (this: EventfoldWorld, name: string, position: number, lag: number) {
  const cli = this.cli!;
  expect(cli.status, cli.stderr).to.equal(0);
  const inspection = JSON.parse(cli.stdout) as { subscriptions: Array<{ name: string; position: number; lag: number }> };
  expect(inspection.subscriptions.find((s) => s.name === name)).to.deep.include({ position, lag });
});
