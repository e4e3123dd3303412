import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { ReentrantCallError, type EventStore, type Projection } from '../../src/index';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The write the projection tries from its evolve, and how each try ended ("ok", or the refusal's class and message). */
const writesFromEvolve = scenarioState(() => ({
  write: undefined as ((store: EventStore) => Promise<unknown>) | undefined,
  outcomes: [] as Array<Promise<string>>,
  acknowledged: undefined as unknown,
}));

/** The writes the outline names, each as the application would call it. */
const WRITES: Record<string, (store: EventStore) => Promise<unknown>> = {
  'append a "ShipmentRequested" to "shipping-1"': (store) => store.append('shipping-1', [{ type: 'ShipmentRequested', data: { order: 'order-1' } }]),
  'append an "OrderNoted" to "order-1"': (store) => store.append('order-1', [{ type: 'OrderNoted', data: {} }]),
  'set the metadata of "shipping-1"': (store) => store.setStreamMetadata('shipping-1', { maxCount: 5 }),
  'delete "shipping-1"': (store) => store.deleteStream('shipping-1'),
  'hard delete "shipping-1"': (store) => store.deleteStream('shipping-1', { hard: true }),
  'take a checkpoint': (store) => store.checkpoint(),
  scavenge: (store) => store.scavenge(),
};

Given(
  'a new store with an {string} projection that counts events and, while it folds a {string} event, tries to write to the store',
  async function (this: EventfoldWorld, name: string, trigger: string) {
    const world = this;
    const tries = writesFromEvolve(this);
    const counting: Projection<{ events: number }> = {
      version: 1,
      initialState: { events: 0 },
      evolve(draft, event) {
        draft.events++;
        if (event.type !== trigger || !tries.write || !world.store) return;
        // Not awaited: evolve is synchronous; the call's promise says whether it was refused.
        tries.outcomes.push(tries.write(world.store).then(
          () => 'ok',
          (error: unknown) => `${(error as Error).constructor.name}: ${(error as Error).message}`,
        ));
      },
    };
    this.storeOptions.projections = { [name]: counting };
    await this.openStore();
  },
);

Given("the projection's write is to {}", function (this: EventfoldWorld, write: string) {
  const chosen = WRITES[write];
  expect(chosen, `a write named ${write}`).to.be.a('function');
  writesFromEvolve(this).write = chosen;
});

When('{string} places an order of {int} item', async function (this: EventfoldWorld, stream: string, items: number) {
  const events = [{ type: 'OrderPlaced', data: { items } }, ...Array.from({ length: items }, (_, i) => ({ type: 'ItemAdded', data: { item: i } }))];
  writesFromEvolve(this).acknowledged = await this.store!.append(stream, events);
});

Then('the order is acknowledged at position {int}, version {int}', function (this: EventfoldWorld, position: number, version: number) {
  expect(writesFromEvolve(this).acknowledged).to.deep.equal({ position, version });
});

Then('every write the projection tried was refused with a ReentrantCallError', async function (this: EventfoldWorld) {
  const outcomes = await Promise.all(writesFromEvolve(this).outcomes);
  expect(outcomes.length, 'the projection tried at least one write').to.be.greaterThan(0);
  for (const outcome of outcomes) {
    expect(outcome).to.match(/^ReentrantCallError: store\.\w+\(\) was called from inside a projection's evolve/);
  }
});

Then(
  'the store holds exactly {int} events: {string} and {string} of {string}',
  async function (this: EventfoldWorld, count: number, first: string, second: string, stream: string) {
    const events: Array<[number, string, string, number]> = [];
    for await (const event of this.store!.readAll()) events.push([event.position, event.stream, event.type, event.version]);
    expect(events).to.have.length(count);
    expect(events).to.deep.equal([
      [0, stream, first, 0],
      [1, stream, second, 1],
    ]);
  },
);

Then('the {string} state counted {int} events', function (this: EventfoldWorld, name: string, count: number) {
  expect((this.store!.state(name) as { events: number }).events).to.equal(count);
});

When('the store is closed and opened again with the same projection', async function (this: EventfoldWorld) {
  // While the new store opens, the world's store is the closed one: a write to another store is not re-entrant, so none is tried.
  writesFromEvolve(this).write = undefined;
  await this.store!.close();
  await this.openStore();
});

Then('{string} has no metadata and was never deleted', function (this: EventfoldWorld, stream: string) {
  expect(this.store!.getStreamMetadata(stream)).to.deep.equal({});
  expect(this.store!.streamVersion(stream)).to.equal(-1);
  expect(this.store!.streams()).to.not.include(stream);
});
