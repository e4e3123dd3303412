import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { StoreClosedError, StoreFailedError, SimulatedDisk, type Subscription } from '../../src/index';
import { checkpointRow } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { checkpointFile } from '../../src/snapshot/checkpoint-file';
import { storePath } from '../support/log-files';

interface Closing {
  subscription?: Subscription;
  appends?: Promise<unknown[]>;
  close?: Promise<void>;
  starting?: Promise<Subscription>;
  stop?: Promise<void>;
  handled: number[];
}

/** What a scenario's close and stop left running. */
const closing = scenarioState((): Closing => ({ handled: [] }));

async function storeWithEvents(world: EventfoldWorld, count: number): Promise<void> {
  if (!world.onPostgres) world.disk = new SimulatedDisk();
  await world.openStore({ maxBatchEvents: 1 });
  for (let i = 0; i < count; i++) await world.store!.append(`account-${i % 3}`, [{ type: 'Deposited', data: { amount: i } }]);
}

Given('a store whose batches hold 1 event, with {int} events', async function (this: EventfoldWorld, count: number) {
  await storeWithEvents(this, count);
});

Given('a store whose batches hold 1 event, with subscription {string} caught up at position {int}', async function (this: EventfoldWorld, name: string, position: number) {
  await storeWithEvents(this, position + 1);
  const state = closing(this);
  state.subscription = await this.store!.subscribe(name, (e) => void state.handled.push(e.position), { from: -1 });
  await state.subscription.waitFor(position);
  expect(state.subscription.lag).to.equal(0);
});

When('{int} more single-event appends are made and the store is closed without waiting for them', async function (this: EventfoldWorld, count: number) {
  const state = closing(this);
  const appends = [];
  for (let i = 0; i < count; i++) appends.push(this.store!.append('account-late', [{ type: 'Deposited', data: { amount: i } }]));
  state.appends = Promise.all(appends);
  // No timeout: a close that never completes fails the scenario by the step timeout.
  state.close = this.store!.close();
});

Then('every one of the {int} appends is acknowledged and the close completes', async function (this: EventfoldWorld, count: number) {
  const state = closing(this);
  expect(await state.appends!).to.have.length(count);
  await state.close;
  expect(state.subscription!.finished).to.equal(true);
});

Then('the store reopens after a clean shutdown at position {int}', async function (this: EventfoldWorld, position: number) {
  await this.openStore();
  expect(this.store!.recovery.cleanShutdown).to.equal(true);
  expect(this.store!.position).to.equal(position);
});

Then('subscription {string} resumes from its checkpoint and handles every event up to position {int} in order', async function (this: EventfoldWorld, name: string, last: number) {
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (e) => void handled.push(e.position));
  await subscription.waitFor(last);
  await subscription.stop();
  // At least once: it may redo events after its last checkpoint, never skip one.
  const first = handled[0];
  expect(handled).to.deep.equal(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  expect(first).to.be.at.most(closing(this).subscription!.position + 1);
});

When('subscription {string} is started and the store is closed before it has started', function (this: EventfoldWorld, name: string) {
  const state = closing(this);
  state.starting = this.store!.subscribe(name, () => undefined, { from: -1 });
  state.close = this.store!.close();
});

Then('starting {string} is refused with a StoreClosedError and the close completes', async function (this: EventfoldWorld, _name: string) {
  const state = closing(this);
  const error = await state.starting!.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(StoreClosedError);
  await state.close;
});

When('subscription {string} starts with a handler that awaits its own stop at position {int}', async function (this: EventfoldWorld, name: string, at: number) {
  const state = closing(this);
  let self: Subscription | undefined;
  let stopped!: () => void;
  state.stop = new Promise((resolve) => (stopped = resolve));
  const subscription = await this.store!.subscribe(
    name,
    async (e) => {
      state.handled.push(e.position);
      if (e.position === at) {
        await self!.stop();
        stopped();
      }
    },
    { from: -1 },
  );
  self = subscription;
  state.subscription = subscription;
});

Then('subscription {string} finishes at position {int} with its checkpoint stored there', async function (this: EventfoldWorld, _name: string, position: number) {
  const state = closing(this);
  await state.stop;
  await state.subscription!.stop();
  expect(state.subscription!.finished).to.equal(true);
  expect(state.subscription!.position).to.equal(position);
  expect(state.handled).to.deep.equal(Array.from({ length: position + 1 }, (_, i) => i));
  const name = state.subscription!.name;
  const stored = this.database ? await checkpointRow(this.database, name) : JSON.parse(this.disk!.peek(storePath(this, checkpointFile(name))).toString('utf8'));
  expect(stored.position).to.equal(position);
});

Given('subscription {string} has handled all {int} events, checkpointing every 1,000', async function (this: EventfoldWorld, name: string, count: number) {
  const state = closing(this);
  state.subscription = await this.store!.subscribe(name, (e) => void state.handled.push(e.position), { from: -1, checkpointEvery: 1000 });
  await state.subscription.waitFor(count - 1);
});

When('the disk refuses the next checkpoint and subscription {string} is stopped', async function (this: EventfoldWorld, _name: string) {
  const state = closing(this);
  this.disk!.inject({ op: 'rename', path: 'subscriptions/', error: 'EIO' });
  await this.capture(() => state.subscription!.stop());
});

Then('the stop is refused with a StoreFailedError: a failed write stops the store, as an append\'s does', async function (this: EventfoldWorld) {
  expect(this.lastError).to.be.instanceOf(StoreFailedError);
  expect(closing(this).subscription!.finished).to.equal(true);
  expect(await this.store!.append('account-0', [{ type: 'Deposited', data: { amount: 1 } }]).catch((error: unknown) => error)).to.equal(this.lastError);
});

Then('once the store is opened again, subscription {string} started again delivers positions {int} to {int} again', async function (this: EventfoldWorld, name: string, from: number, to: number) {
  await this.store!.close().catch(() => undefined);
  await this.openStore({ maxBatchEvents: 1 });
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (e) => void handled.push(e.position));
  await subscription.waitFor(to);
  await subscription.stop();
  expect(handled).to.deep.equal(Array.from({ length: to - from + 1 }, (_, i) => from + i));
});
