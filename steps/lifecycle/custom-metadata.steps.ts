import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { difference } from '../support/exact-equal';
import { KEPT_VALUES, READS_BACK_AS } from '../support/sample-data';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** A stream's `custom` metadata set to one of the data model's sample values (support/sample-data.ts). */
const customMetadata = scenarioState(() => ({ stream: '', sample: '' }));

When(/^"([^"]+)" is given custom metadata holding (.+)$/, async function (this: EventfoldWorld, stream: string, sample: string) {
  const make = KEPT_VALUES[sample];
  if (!make) throw new Error(`no sample value called "${sample}"`);
  Object.assign(customMetadata(this), { stream, sample });
  await this.store!.setStreamMetadata(stream, { maxCount: 5, custom: make() });
});

Then(/^its custom data reads back exactly( after a reopen)?, also in the retention report$/, async function (this: EventfoldWorld, reopen: string | undefined) {
  if (reopen) {
    await this.store!.close();
    await this.openStore();
  }
  const { stream, sample } = customMetadata(this);
  const fresh = KEPT_VALUES[sample]();
  const expected = READS_BACK_AS[sample] ? READS_BACK_AS[sample](fresh) : fresh;
  const read = this.store!.getStreamMetadata(stream);
  expect(read.maxCount).to.equal(5);
  expect(difference(expected, read.custom), 'getStreamMetadata').to.equal(null);
  const reported = (await this.store!.retentionReport()).streams.find((s) => s.stream === stream);
  expect(difference(expected, reported?.metadata.custom), 'retentionReport').to.equal(null);
  // Each read is the caller's own copy: changing it changes nothing stored.
  if (typeof read.custom === 'object' && read.custom !== null) (read.custom as Record<string, unknown>).changedByTheCaller = true;
  expect(difference(expected, this.store!.getStreamMetadata(stream).custom), 'a second read').to.equal(null);
});
