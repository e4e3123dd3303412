import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { AppendResult, Fault } from '../../src/index';
import { numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const FAULTS: Record<string, Fault> = {
  'EIO on the next fsync': { op: 'datasync', error: 'EIO' },
  'ENOSPC on the next write': { op: 'write', error: 'ENOSPC' },
  'EIO on the next write': { op: 'write', error: 'EIO' },
  'a short write of 10 bytes': { op: 'write', shortWrite: 10 },
};

When('the disk will fail with {}', function (this: EventfoldWorld, fault: string) {
  expect(FAULTS[fault], `known fault "${fault}"`).to.not.equal(undefined);
  this.disk!.inject(FAULTS[fault]);
});

/** How many fdatasyncs the disk had seen when the store failed. */
const failedStore = scenarioState(() => ({ datasyncsAtFailure: -1 }));

Then('all {int} appends were rejected with a StoreFailedError', function (this: EventfoldWorld, count: number) {
  const outcomes = this.appendOutcomes!;
  expect(outcomes).to.have.length(count);
  for (const outcome of outcomes) {
    expect(outcome.status).to.equal('rejected');
    expect((outcome as PromiseRejectedResult).reason.name).to.equal('StoreFailedError');
  }
  expect(this.store!.failed).to.equal(true);
  failedStore(this).datasyncsAtFailure = this.disk!.calls.datasync;
});

Then('a further append is rejected with a StoreFailedError', async function (this: EventfoldWorld) {
  const error = await this.store!.append('meter-1', numberedEvents(1)).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.name).to.equal('StoreFailedError');
  expect(error?.message).to.contain('Reopen the store');
});

Then('the log was not fsynced again after the failure', async function (this: EventfoldWorld) {
  expect(this.disk!.calls.datasync).to.equal(failedStore(this).datasyncsAtFailure);
});

When('the failed store is closed and opened again', async function (this: EventfoldWorld) {
  const before = this.disk!.calls.datasync;
  await this.store!.close();
  expect(this.disk!.calls.datasync, 'closing a failed store must not fsync').to.equal(before);
  this.lastError = undefined;
  await this.openStore();
});
