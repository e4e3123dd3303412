import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore } from '../../src/index';
import { numberedEvents } from '../support/events';
import { followChild, startChild } from '../support/children';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** A consumer child killed part-way: the positions it handled, and how often it checkpointed. */
const killedConsumer = scenarioState(() => ({ handled: [] as number[], checkpointEvery: 0, redone: 0 }));

async function start(world: EventfoldWorld, name: string, options: { from?: number; failOn?: number; checkpointEvery?: number } = {}): Promise<void> {
  const handled: number[] = [];
  const subscription = await world.store!.subscribe(
    name,
    (event) => {
      if (event.position === options.failOn) throw new Error(`cannot handle position ${event.position}`);
      handled.push(event.position);
    },
    { from: options.from, checkpointEvery: options.checkpointEvery ?? 2 },
  );
  world.subscriptions.set(name, { subscription, handled });
}

When('subscription {string} starts from the beginning', async function (this: EventfoldWorld, name: string) {
  await start(this, name, { from: -1 });
});

When('subscription {string} resumes from its checkpoint', async function (this: EventfoldWorld, name: string) {
  await start(this, name);
});

When('subscription {string} starts with a handler that throws on position {int}', async function (this: EventfoldWorld, name: string, position: number) {
  await start(this, name, { from: -1, failOn: position });
});

Given('subscription {string} has handled the first {int} events', async function (this: EventfoldWorld, name: string, count: number) {
  await start(this, name, { from: -1 });
  await this.subscriptions.get(name)!.subscription.waitFor(count - 1);
});

Then('subscription {string} has handled positions {int} to {int} in order', async function (this: EventfoldWorld, name: string, from: number, to: number) {
  const { subscription, handled } = this.subscriptions.get(name)!;
  await subscription.waitFor(to);
  expect(handled).to.deep.equal(Array.from({ length: to - from + 1 }, (_, i) => from + i));
});

Then('subscription {string} is at position {int} with a lag of {int}', function (this: EventfoldWorld, name: string, position: number, lag: number) {
  const { subscription } = this.subscriptions.get(name)!;
  expect(subscription.position).to.equal(position);
  expect(subscription.lag).to.equal(lag);
});

Then("subscription {string} stopped with its handler's error, at position {int}", async function (this: EventfoldWorld, name: string, position: number) {
  const { subscription } = this.subscriptions.get(name)!;
  const error = await subscription.waitFor(position + 1).then(() => undefined, (e: Error) => e);
  expect(error?.message).to.contain('cannot handle position 3');
  expect(subscription.stopped).to.equal(true);
  expect(subscription.position).to.equal(position);
  expect(this.store!.failed).to.equal(false);
});

Given('a store holding {int} events for a consumer', async function (this: EventfoldWorld, count: number) {
  const store = await this.openStore();
  for (let i = 0; i < count; i += 1000) await store.append(`batch-${i / 1000}`, numberedEvents(Math.min(1000, count - i), i));
  await store.close();
  this.store = undefined;
});

When(
  'a child process consumes them as {string}, checkpointing every {int}, and is killed with SIGKILL after {int}',
  async function (this: EventfoldWorld, name: string, every: number, killAfter: number) {
    const handled: number[] = [];
    const child = startChild(this, 'consume.ts', [this.storeLocation, name, String(every)]);
    const exit = await followChild(child, (line) => {
      const match = /^handled (\d+)$/.exec(line);
      if (!match) return;
      handled.push(Number(match[1]));
      if (handled.length === killAfter) child.kill('SIGKILL');
    });
    expect(exit.signal, exit.stderr).to.equal('SIGKILL');
    const outOfOrder = handled.findIndex((position, i) => position !== i);
    expect(outOfOrder, `the child handled position ${handled[outOfOrder]} as its event number ${outOfOrder}`).to.equal(-1);
    killedConsumer(this).handled = handled;
    killedConsumer(this).checkpointEvery = every;
  },
);

When('subscription {string} resumes from its checkpoint in this process', async function (this: EventfoldWorld, name: string) {
  this.store = await EventStore.open(this.storeLocation);
  await start(this, name, { checkpointEvery: killedConsumer(this).checkpointEvery });
});

Then('it resumes no later than the first event the child did not finish', async function (this: EventfoldWorld) {
  const { subscription, handled } = [...this.subscriptions.values()][0];
  await subscription.waitFor(this.store!.position);
  const lastByChild = killedConsumer(this).handled.slice(-1)[0];
  expect(handled[0]).to.be.at.most(lastByChild + 1);
});

Then('it redoes at most {int} events the child had already handled', function (this: EventfoldWorld, interval: number) {
  const { handled } = [...this.subscriptions.values()][0];
  const lastByChild = killedConsumer(this).handled.slice(-1)[0];
  const redone = lastByChild + 1 - handled[0];
  expect(redone).to.be.within(0, interval);
  killedConsumer(this).redone = redone;
});

Then('it then handles every event up to position {int} in order', async function (this: EventfoldWorld, last: number) {
  const { handled } = [...this.subscriptions.values()][0];
  expect(handled.length).to.equal(last - handled[0] + 1);
  const outOfOrder = handled.findIndex((position, i) => position !== handled[0] + i);
  expect(outOfOrder, `position ${handled[outOfOrder]} was delivered as number ${outOfOrder} after the resume`).to.equal(-1);
  await this.figures({ name: 'events delivered again after the crash', value: killedConsumer(this).redone, unit: 'events' });
});
