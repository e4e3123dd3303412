import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CorruptionError } from '../../src/index';
import { logDamage } from '../support/log-damage-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

Then('the background check reports the log verified', async function (this: EventfoldWorld) {
  expect(this.store!.recovery.coveredLog).to.equal('checked in the background');
  const health = await this.store!.verified();
  expect(health).to.deep.equal({ log: 'verified', problem: null });
  expect(this.store!.health.log).to.equal('verified');
});

Then('the background check reports a CorruptionError naming the segment file and the offset of record {int}', async function (this: EventfoldWorld, _n: number) {
  const damage = logDamage(this).damage!;
  const health = await this.store!.verified();
  expect(health.log).to.equal('damaged');
  expect(health.problem).to.be.instanceOf(CorruptionError);
  expect(health.problem!.file).to.equal(`log/${damage.path.split('/').pop()}`);
  expect(health.problem!.offset).to.equal(damage.span.offset);
  expect(this.store!.health.problem).to.equal(health.problem);
});

Then('the store refuses appends with that CorruptionError', async function (this: EventfoldWorld) {
  const before = this.store!.position;
  const error = await this.store!.append('after-damage', [{ type: 'Deposited', data: { amount: 1 } }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.equal(this.store!.health.problem);
  expect(this.store!.position).to.equal(before);
});

Then('the events from position {int} on still read back', async function (this: EventfoldWorld, position: number) {
  const positions: number[] = [];
  for await (const event of this.store!.readAll({ from: position })) positions.push(event.position);
  expect(positions).to.deep.equal(Array.from({ length: this.store!.position - position + 1 }, (_, i) => position + i));
});

/** What the steps about the background check of the covered log share. */
const backgroundCheck = scenarioState(() => ({
  onCorruptionCalls: [] as CorruptionError[],
  /** The store's health and position when an append was tried during the check. */
  healthAtAppend: undefined as string | undefined,
  positionBefore: -1,
}));

When('the store is opened again with an onCorruption callback', async function (this: EventfoldWorld) {
  const calls: CorruptionError[] = [];
  backgroundCheck(this).onCorruptionCalls = calls;
  await this.capture(() => this.openStore({ onCorruption: (error) => void calls.push(error) }));
});

Then("the store's onCorruption callback was called once, with that error", function (this: EventfoldWorld) {
  expect(backgroundCheck(this).onCorruptionCalls).to.deep.equal([this.store!.health.problem]);
});

When('an event is appended at once, while the background check is still running', async function (this: EventfoldWorld) {
  backgroundCheck(this).healthAtAppend = this.store!.health.log;
  backgroundCheck(this).positionBefore = this.store!.position;
  await this.capture(() => this.store!.append('after-damage', [{ type: 'Deposited', data: { amount: 1 } }]));
});

Then("that append is refused with the background check's CorruptionError and nothing was written", async function (this: EventfoldWorld) {
  expect(backgroundCheck(this).healthAtAppend).to.equal('verifying');
  expect(this.lastError).to.be.instanceOf(CorruptionError);
  expect(this.lastError).to.equal(this.store!.health.problem);
  expect(this.store!.position).to.equal(backgroundCheck(this).positionBefore);
});

Then('a backup of the store is refused with that CorruptionError', async function (this: EventfoldWorld) {
  const error = await this.store!.backup(`${this.dir}/backup`).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.equal(this.store!.health.problem);
});

Then('closing the store leaves no clean-shutdown marker', async function (this: EventfoldWorld) {
  await this.store!.close();
  await this.openStore({ repair: 'truncate' });
  expect(this.store!.recovery.cleanShutdown).to.equal(false);
});

Given('a store of {int},{int} events in appends of {int}, with a snapshot of all of them', async function (this: EventfoldWorld, thousands: number, units: number, per: number) {
  const count = thousands * 1000 + units;
  this.storeOptions.snapshotEvery = 0;
  const store = await this.openStore();
  const inFlight: Array<Promise<unknown>> = [];
  for (let first = 0; first < count; first += per) {
    const events = Array.from({ length: Math.min(per, count - first) }, (_, i) => ({ type: 'Deposited', data: { amount: first + i } }));
    inFlight.push(store.append(`account-${(first / per) % 1000}`, events));
    if (inFlight.length === 1000) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  expect(store.position).to.equal(count - 1);
  await store.checkpoint();
  await store.close();
});
