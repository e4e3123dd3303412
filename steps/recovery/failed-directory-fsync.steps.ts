import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { numberedEvents } from '../support/events';
import { segmentPaths } from '../support/log-files';
import { CLEAN_MARKER, LOG_DIR, logDirOf } from '../../src/store-layout';
import type { EventfoldWorld } from '../support/world';

When('the directory fsync of the next new segment fails while {int} events are appended', async function (this: EventfoldWorld, count: number) {
  const before = (await segmentPaths(this)).length;
  this.disk!.inject({ op: 'syncDir', path: '/log', error: 'EIO' });
  await this.capture(() => this.store!.append('meter-1', numberedEvents(count, 1000)));
  expect((this.lastError as Error)?.name, 'the append during the roll must fail').to.equal('StoreFailedError');
  expect((await segmentPaths(this)).length, 'the new segment is there, its directory entry unsynced').to.equal(before + 1);
});

When('{string} gets {int} more events, each acknowledged', async function (this: EventfoldWorld, stream: string, count: number) {
  for (let i = 0; i < count; i++) await this.store!.append(stream, numberedEvents(1, 2000 + i));
});

Given('the first fsync of the log directory will fail', function (this: EventfoldWorld) {
  this.disk!.inject({ op: 'syncDir', path: `/${LOG_DIR}`, error: 'EIO' });
});

When('a new store is opened on it and the open fails', async function (this: EventfoldWorld) {
  await this.capture(() => this.openStore());
  expect((this.lastError as Error)?.name).to.equal('StorageError');
  expect(await this.disk!.exists(logDirOf(this.storeDir)), 'the log directory was made before its fsync failed').to.equal(true);
});

When('the next open fails to fsync the store directory after removing the clean-shutdown marker', async function (this: EventfoldWorld) {
  // Let k directory fsyncs of the store through, then fail one; raise k until the failure is the one that follows the marker's removal.
  const disk = this.disk!;
  const marker = `${this.storeDir}/${CLEAN_MARKER}`;
  for (let passing = 0; await disk.exists(marker); passing++) {
    expect(passing, 'an open fsyncs the store directory after removing the marker').to.be.lessThan(20);
    disk.inject({ op: 'syncDir', path: this.storeDir, after: passing, error: 'EIO' });
    await this.capture(() => this.openStore());
    expect((this.lastError as Error)?.name, 'the open fails at the injected fault').to.equal('StorageError');
  }
});

Then('the store opens normally, with {int} events', function (this: EventfoldWorld, count: number) {
  expect(this.store!.recovery.eventsRecovered).to.equal(count);
  expect(this.store!.recovery.quarantine).to.equal(null);
});

When("the power fails after the disk wrote back every file's data but no unsynced directory change", function (this: EventfoldWorld) {
  this.disk = this.disk!.powerLoss('keep-unsynced');
  this.store = undefined;
});
