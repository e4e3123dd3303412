import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { collect, numberedEvents } from '../support/events';
import { segmentPaths } from '../support/log-files';
import type { StoreOptions } from '../../src/index';
import type { EventfoldWorld } from '../support/world';

/** The machine goes down: the old store is abandoned as it was, the disk comes back as the policy says. */
When('the process dies but the operating system writes out what it was given', function (this: EventfoldWorld) {
  this.disk = this.disk!.powerLoss('keep-unsynced');
  this.store = undefined;
});

/** The process is gone, the machine is not: its unsynced writes are still in the page cache, at the mercy of the next power cut. */
When("the process dies and what it wrote waits, unsynced, in the operating system's cache", function (this: EventfoldWorld) {
  this.disk = this.disk!.processCrash();
  this.store = undefined;
});

When('the store is opened in {string} mode', async function (this: EventfoldWorld, durability: string) {
  await this.openStore({ durability: durability as StoreOptions['durability'] });
});

When('the power fails while a {int}-event batch is being written, half of it on the disk', async function (this: EventfoldWorld, count: number) {
  const disk = this.disk!;
  disk.inject({ op: 'datasync', powerLoss: true });
  const stream = 'invoice-3';
  const outcome = await this.capture(() => this.store!.append(stream, numberedEvents(count, 10)));
  expect(outcome, 'the batch must not be acknowledged').to.equal(undefined);
  const [segment] = (await segmentPaths(this)).slice(-1);
  const unsynced = disk.unsyncedBytes(segment);
  this.disk = disk.powerLoss({ tearLastWriteAt: Math.floor(unsynced / 2) });
  this.store = undefined;
});

When('the store is opened after the power comes back', async function (this: EventfoldWorld) {
  await this.openStore();
});

Then('stream {string} holds exactly {int} events', async function (this: EventfoldWorld, stream: string, count: number) {
  const events = await collect(this.store!.readStream(stream));
  expect(events).to.have.length(count);
  events.forEach((event, i) => expect(event.version).to.equal(i));
});

Then('stream {string} holds fewer than {int} events', async function (this: EventfoldWorld, stream: string, count: number) {
  expect((await collect(this.store!.readStream(stream))).length).to.be.lessThan(count);
});

Then('the recovery report says {int} events of an incomplete batch were discarded', function (this: EventfoldWorld, count: number) {
  expect(this.store!.recovery.tornTail?.eventsDiscarded).to.equal(count);
});
