import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { collect } from '../support/events';
import type { EventfoldWorld } from '../support/world';

When('the disk will fail the next fsync of the log and then the next cut of the log', function (this: EventfoldWorld) {
  this.disk!.inject({ op: 'datasync', path: '.seg', error: 'EIO' });
  this.disk!.inject({ op: 'truncate', path: '.seg', error: 'EIO' });
});

When('{string} appends a withdrawal of {int}, which is rejected with a StoreFailedError', async function (this: EventfoldWorld, stream: string, amount: number) {
  await this.capture(() => this.store!.append(stream, [{ type: 'Withdrawn', data: { amount } }]));
  expect((this.lastError as Error)?.name).to.equal('StoreFailedError');
  expect(this.disk!.calls.truncate, 'the cut back was tried (and failed)').to.be.greaterThan(0);
});

Then('stream {string} holds exactly 1 event', async function (this: EventfoldWorld, stream: string) {
  const events = await collect(this.store!.readStream(stream));
  expect(events.map((e) => e.type)).to.not.include('Withdrawn');
  expect(events).to.have.length(1);
});

Then('the recovery report says one rejected write was cut from the log', function (this: EventfoldWorld) {
  const cuts = this.store!.recovery.rejectedWrites;
  expect(cuts).to.have.length(1);
  expect(cuts[0].bytesCut).to.be.greaterThan(0);
  expect(this.store!.recovery.tornTail).to.equal(null);
});
