import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { InvalidInputError } from '../../src/index';
import { difference, readBack } from '../support/exact-equal';
import { logBytes } from '../support/log-files';
import { KEPT_VALUES, READS_BACK_AS, REFUSED_VALUES } from '../support/sample-data';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The sample value of the data model the scenario appended. */
const dataModel = scenarioState(() => ({ sample: '' }));

When('an event is appended whose data holds {}', async function (this: EventfoldWorld, name: string) {
  const make = KEPT_VALUES[name] ?? REFUSED_VALUES[name];
  if (!make) throw new Error(`no sample value called "${name}"`);
  dataModel(this).sample = name;
  this.logBytesBefore = await logBytes(this);
  await this.capture(() => this.store!.append('samples', [{ type: 'Sampled', data: make(), metadata: { sample: name } }]));
});

Then('after a reopen, readStream and readAll give back the same value exactly', async function (this: EventfoldWorld) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  await this.store!.close();
  await this.openStore();
  const name = dataModel(this).sample;
  const fresh = KEPT_VALUES[name]();
  const expected = READS_BACK_AS[name] ? READS_BACK_AS[name](fresh) : fresh;
  const { viaStream, viaAll } = await readBack(this.store!, 'samples');
  expect(viaStream).to.have.length(1);
  expect(difference(expected, viaStream[0].data), 'readStream').to.equal(null);
  expect(difference(expected, viaAll[0].data), 'readAll').to.equal(null);
  expect(viaStream[0].metadata).to.deep.equal({ sample: name });
});

Then(/^it is refused with an InvalidInputError saying "(.*)"$/, async function (this: EventfoldWorld, text: string) {
  expect(this.lastError, 'the append should have been refused').to.be.instanceOf(InvalidInputError);
  expect((this.lastError as Error).message).to.contain(text);
  expect(await logBytes(this)).to.equal(this.logBytesBefore);
  expect(this.store!.streamVersion('samples')).to.equal(-1);
});
