import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { SimulatedDisk, type AppendResult, type Projection, type RecordedEvent } from '../../src/index';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** A deposit still in flight, and the state a fold up to a version returned. */
const depositsAndFolds = scenarioState(() => ({ inFlight: undefined as Promise<AppendResult> | undefined, folded: { balance: 0 } }));

type Balances = Record<string, number>;
/** The events these scenarios append (see support/events and the deposit steps). */
type MoneyEvent = { type: 'Deposited' | 'Withdrawn'; data: { amount: number } };

export function balances(refuseOverdraft: boolean): Projection<Balances, MoneyEvent> {
  return {
    version: 1,
    initialState: {},
    evolve(draft, event) {
      const amount = event.data.amount;
      const next = (draft[event.stream] ?? 0) + (event.type === 'Withdrawn' ? -amount : amount);
      if (refuseOverdraft && next < 0) throw new Error(`${event.stream} would be overdrawn by ${-next}`);
      draft[event.stream] = next;
    },
  };
}

Given(/^a new store( on a simulated disk)? with a "([^"]+)" projection that sums deposits per account( and refuses overdrafts)?$/, async function (this: EventfoldWorld, simulated: string | null, name: string, refuse: string | null) {
  if (simulated) this.disk = new SimulatedDisk();
  this.storeOptions.projections = { [name]: balances(Boolean(refuse)) };
  await this.openStore();
});

When('the store is opened again with the same projection', async function (this: EventfoldWorld) {
  await this.openStore();
});

Given(/^"([^"]+)" deposits (\d+)(?:, (\d+))? and (?:then )?(\d+)$/, async function (this: EventfoldWorld, stream: string, first: string, second: string | null, last: string) {
  for (const amount of [first, second, last].filter((a): a is string => Boolean(a))) {
    await this.store!.append(stream, [{ type: 'Deposited', data: { amount: Number(amount) } }]);
  }
});

When('{string} starts a deposit of {int}', function (this: EventfoldWorld, stream: string, amount: number) {
  depositsAndFolds(this).inFlight = this.store!.append(stream, [{ type: 'Deposited', data: { amount } }]);
});

When('that deposit is acknowledged', async function (this: EventfoldWorld) {
  await depositsAndFolds(this).inFlight;
});

When('{string} tries to withdraw {int}', async function (this: EventfoldWorld, stream: string, amount: number) {
  await this.capture(() => this.store!.append(stream, [{ type: 'Withdrawn', data: { amount } }]));
});

Then('the {string} state says {string} holds {int}', function (this: EventfoldWorld, name: string, stream: string, amount: number) {
  // The name comes from the scenario text, so the world's store is the untyped one: its states are `unknown`.
  expect((this.store!.state(name) as Balances)[stream]).to.equal(amount);
});

Then('the {string} state cannot be changed by the application', function (this: EventfoldWorld, name: string) {
  const state = this.store!.state(name) as Balances;
  expect(Object.isFrozen(state)).to.equal(true);
  expect(() => {
    (state as Balances)['account-1'] = 1_000_000;
  }).to.throw(TypeError);
});

When('{string} is folded up to version {int}', async function (this: EventfoldWorld, stream: string, to: number) {
  depositsAndFolds(this).folded = await this.store!.aggregateStream(stream, {
    initialState: { balance: 0 },
    to,
    evolve(draft, event: RecordedEvent<MoneyEvent>) {
      draft.balance += event.data.amount;
    },
  });
});

Then('the folded balance is {int}', function (this: EventfoldWorld, balance: number) {
  expect(depositsAndFolds(this).folded.balance).to.equal(balance);
});
