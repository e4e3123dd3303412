import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import {
  CommandHandler,
  DeciderCommandHandler,
  ExpectedVersionConflictError,
  IllegalStateError,
  isExpectedVersionConflictError,
  STREAM_DOES_NOT_EXIST,
  type ReadEvent,
  type ReadEventMetadataWithGlobalPosition,
} from '@event-driven-io/emmett';
import { getEventfoldEventStore, type EventfoldEventStore } from '../../src/emmett';
import { SimulatedDisk, StoreFailedError, type RecordedEvent } from '../../src/index';
import { decide, evolve, initialState, type ShoppingCart, type ShoppingCartCommand, type ShoppingCartEvent } from '../support/shopping-cart';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

interface EmmettMemo {
  emmett: EventfoldEventStore;
  results: Array<{ nextExpectedStreamVersion: bigint; createdNewStream: boolean; newState: ShoppingCart }>;
  error?: unknown;
  read?: ReadEvent<ShoppingCartEvent, ReadEventMetadataWithGlobalPosition>[];
  outcomes?: PromiseSettledResult<unknown>[];
  handlerCalls?: number;
}

const emmettState = scenarioState(() => ({ current: undefined as EmmettMemo | undefined }));
const emmettOf = (world: EventfoldWorld) => emmettState(world).current!;

const handle = DeciderCommandHandler<ShoppingCart, ShoppingCartCommand, ShoppingCartEvent>({ decide, evolve, initialState });

function command(text: string): ShoppingCartCommand {
  const add = /^AddProductItem "(.+)" x (\d+)$/.exec(text);
  if (add) return { type: 'AddProductItem', data: { productId: add[1], quantity: Number(add[2]) } };
  if (text === 'OpenShoppingCart') return { type: 'OpenShoppingCart', data: { cartId: 'cart' } };
  if (text === 'ConfirmShoppingCart') return { type: 'ConfirmShoppingCart', data: {} };
  throw new Error(`unknown command ${text}`);
}

/** "A, B and C" → [A, B, C] (commands may contain commas only inside quotes, which they do not). */
function list(text: string): string[] {
  return text.split(/, | and /).map((s) => s.trim());
}

async function handleAll(world: EventfoldWorld, commands: string, cart: string): Promise<void> {
  const steps = emmettOf(world);
  for (const text of list(commands)) {
    const result = await handle(steps.emmett, cart, command(text));
    steps.results.push(result);
  }
}

async function eventfoldEvents(world: EventfoldWorld, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of world.store!.readStream(stream)) events.push(event);
  return events;
}

function cartEvents(count: number): ShoppingCartEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'ProductItemAdded' as const, data: { productId: `p-${i}`, quantity: 1 } }));
}

Given('an eventfold store with Emmett\'s event store over it', async function (this: EventfoldWorld) {
  const store = await this.openStore();
  emmettState(this).current = { emmett: getEventfoldEventStore(store), results: [] };
});

Given("an eventfold store on a simulated disk with Emmett's event store over it", async function (this: EventfoldWorld) {
  this.disk = new SimulatedDisk();
  const store = await this.openStore();
  emmettState(this).current = { emmett: getEventfoldEventStore(store), results: [] };
});

When(
  'the power fails while the command {} is being made durable for {string}',
  async function (this: EventfoldWorld, text: string, cart: string) {
    // The first fdatasync from now on cuts the power: the command's batch is written but never synced.
    this.disk!.inject({ op: 'datasync', powerLoss: true });
    await this.capture(() => handle(emmettOf(this).emmett, cart, command(text)));
    this.disk = this.disk!.powerLoss('drop-unsynced');
    this.store = undefined;
  },
);

Then('that command was not acknowledged', function (this: EventfoldWorld) {
  // The fdatasync failed: eventfold fail-stopped, so Emmett saw the store's failure, not a conflict to retry.
  expect(this.lastError).to.be.an.instanceOf(StoreFailedError);
  expect(isExpectedVersionConflictError(this.lastError)).to.equal(false);
});

When("the store is opened again after the power comes back, with Emmett's event store over it", async function (this: EventfoldWorld) {
  const store = await this.openStore();
  emmettOf(this).emmett = getEventfoldEventStore(store);
});

/** What Emmett's readStream reports of a stream: its version, and its events' stream positions (counted from 1), or that it has none. */
Then(
  /^Emmett's readStream of "([^"]+)" reports a current stream version of (\d+)(?: and (no events|stream positions \d+ and \d+))?$/,
  async function (this: EventfoldWorld, stream: string, version: string, rest: string | null | undefined) {
    const result = await emmettOf(this).emmett.readStream<ShoppingCartEvent>(stream);
    if (rest === 'no events') {
      expect(result).to.deep.equal({ currentStreamVersion: BigInt(version), events: [], streamExists: false });
      return;
    }
    expect(result.currentStreamVersion).to.equal(BigInt(version));
    const positions = result.events.map((e) => e.metadata.streamPosition);
    if (rest == null) {
      expect(positions).to.deep.equal(result.events.map((_, i) => BigInt(i + 1)));
      return;
    }
    expect(result.streamExists).to.equal(true);
    const [a, b] = rest.match(/\d+/g)!;
    expect(positions).to.deep.equal([BigInt(a), BigInt(b)]);
    emmettOf(this).read = result.events;
  },
);

Then('the confirmed cart holds {int} {string} and no other product', function (this: EventfoldWorld, quantity: number, product: string) {
  expect(emmettOf(this).results.at(-1)!.newState).to.deep.equal({ status: 'Confirmed', items: { [product]: quantity } });
});

When('the commands {} are handled for {string}', async function (this: EventfoldWorld, commands: string, cart: string) {
  await handleAll(this, commands, cart);
});

Given('the command(s) {} was/were handled for {string}', async function (this: EventfoldWorld, commands: string, cart: string) {
  await handleAll(this, commands, cart);
});

When('the command {} is handled for {string}', async function (this: EventfoldWorld, text: string, cart: string) {
  await this.capture(() => handle(emmettOf(this).emmett, cart, command(text)));
});

Then('the handler reported next expected stream versions {}', function (this: EventfoldWorld, versions: string) {
  expect(emmettOf(this).results.map((r) => r.nextExpectedStreamVersion)).to.deep.equal(list(versions).map((v) => BigInt(v)));
});

Then('only the first command created the stream', function (this: EventfoldWorld) {
  expect(emmettOf(this).results.map((r) => r.createdNewStream)).to.deep.equal(emmettOf(this).results.map((_, i) => i === 0));
});

Then(
  "eventfold's own readStream of {string} holds {} at versions {int} to {int}",
  async function (this: EventfoldWorld, stream: string, types: string, first: number, last: number) {
    const events = await eventfoldEvents(this, stream);
    expect(events.map((e) => e.type)).to.deep.equal(list(types));
    expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  },
);

Then('the confirmed cart holds {int} {string} and {int} {string}', function (this: EventfoldWorld, a: number, productA: string, b: number, productB: string) {
  const state = emmettOf(this).results.at(-1)!.newState;
  expect(state).to.deep.equal({ status: 'Confirmed', items: { [productA]: a, [productB]: b } });
});

Then("it failed with Emmett's IllegalStateError {string}", function (this: EventfoldWorld, message: string) {
  expect(this.lastError).to.be.instanceOf(IllegalStateError);
  expect((this.lastError as Error).message).to.equal(message);
});

Then('eventfold holds {int} events in {string}', async function (this: EventfoldWorld, count: number, stream: string) {
  expect(await eventfoldEvents(this, stream)).to.have.length(count);
  expect(this.store!.streamVersion(stream)).to.equal(count - 1);
});

When(
  "Emmett's CommandHandler adds {string} x {int} to a new cart {string}, opening it in the same command",
  async function (this: EventfoldWorld, product: string, quantity: number, cart: string) {
    const handleCart = CommandHandler<ShoppingCart, ShoppingCartEvent>({ evolve, initialState });
    const result = await handleCart(emmettOf(this).emmett, cart, (state) => [
      ...[decide({ type: 'OpenShoppingCart', data: { cartId: cart } }, state)].flat(),
      { type: 'ProductItemAdded', data: { productId: product, quantity } },
    ]);
    emmettOf(this).results.push(result);
  },
);

Then('the command\'s new state holds {int} {string}', function (this: EventfoldWorld, quantity: number, product: string) {
  expect(emmettOf(this).results.at(-1)!.newState).to.deep.equal({ status: 'Opened', items: { [product]: quantity } });
});

/** Through eventfold's own append (events of another kind), or Emmett's appendToStream (cart events). */
Given(/^(\d+) events were appended to "([^"]+)" through (eventfold|Emmett)$/, async function (this: EventfoldWorld, count: string, stream: string, api: string) {
  if (api === 'eventfold') await this.store!.append(stream, Array.from({ length: Number(count) }, () => ({ type: 'Other', data: {} })));
  else await emmettOf(this).emmett.appendToStream(stream, cartEvents(Number(count)));
});

When(
  '{int} events with metadata {string} {string} are appended to {string} through Emmett',
  async function (this: EventfoldWorld, count: number, key: string, value: string, stream: string) {
    const events = cartEvents(count).map((e) => ({ ...e, metadata: { [key]: value } }));
    await emmettOf(this).emmett.appendToStream(stream, events, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  },
);

Then('their global positions are {int} and {int}, each eventfold\'s position + 1', async function (this: EventfoldWorld, a: number, b: number) {
  const read = emmettOf(this).read!;
  expect(read.map((e) => e.metadata.globalPosition)).to.deep.equal([BigInt(a), BigInt(b)]);
  const own = await eventfoldEvents(this, read[0].metadata.streamName);
  expect(own.map((e) => BigInt(e.position + 1))).to.deep.equal([BigInt(a), BigInt(b)]);
});

Then(
  'each carries stream name {string}, a distinct message id that is eventfold\'s event id, and {string} {string}',
  async function (this: EventfoldWorld, stream: string, key: string, value: string) {
    const read = emmettOf(this).read!;
    const own = await eventfoldEvents(this, stream);
    expect(read.map((e) => e.metadata.streamName)).to.deep.equal(read.map(() => stream));
    expect(read.map((e) => e.metadata.messageId)).to.deep.equal(own.map((e) => e.id));
    expect(new Set(read.map((e) => e.metadata.messageId)).size).to.equal(read.length);
    for (const event of read) expect((event.metadata as Record<string, unknown>)[key]).to.equal(value);
    for (const event of own) expect(event.metadata).to.deep.equal({ [key]: value });
  },
);

Then("Emmett's streamExists says true for {string} and false for {string}", async function (this: EventfoldWorld, existing: string, missing: string) {
  expect(await emmettOf(this).emmett.streamExists(existing)).to.equal(true);
  expect(await emmettOf(this).emmett.streamExists(missing)).to.equal(false);
});

When('Emmett reads {string} from position {int} to position {int}', async function (this: EventfoldWorld, stream: string, from: number, to: number) {
  emmettOf(this).read = (await emmettOf(this).emmett.readStream<ShoppingCartEvent>(stream, { from: BigInt(from), to: BigInt(to) })).events;
});

Then('it gets stream positions {int}, {int} and {int}', function (this: EventfoldWorld, a: number, b: number, c: number) {
  expect(emmettOf(this).read!.map((e) => e.metadata.streamPosition)).to.deep.equal([a, b, c].map(BigInt));
});

Then('with maxCount {int} from position {int} it gets stream positions {int} and {int}', async function (this: EventfoldWorld, maxCount: number, from: number, a: number, b: number) {
  const result = await emmettOf(this).emmett.readStream('cart-1', { from: BigInt(from), maxCount: BigInt(maxCount) });
  expect(result.events.map((e) => e.metadata.streamPosition)).to.deep.equal([a, b].map(BigInt));
});

When('Emmett appends to {string} expecting stream version {int}', async function (this: EventfoldWorld, stream: string, version: number) {
  await this.capture(() => emmettOf(this).emmett.appendToStream(stream, cartEvents(1), { expectedStreamVersion: BigInt(version) }));
});

Then(
  "Emmett's isExpectedVersionConflictError recognises the error, an instance of Emmett's ExpectedVersionConflictError",
  function (this: EventfoldWorld) {
    expect(isExpectedVersionConflictError(this.lastError)).to.equal(true);
    expect(this.lastError).to.be.instanceOf(ExpectedVersionConflictError);
  },
);

Then('the error says the current version is {int} and the expected {int}', function (this: EventfoldWorld, current: number, expected: number) {
  expect(this.lastError).to.include({ current: String(current), expected: String(expected) });
});

When('Emmett aggregates {string} expecting stream version {int}', async function (this: EventfoldWorld, stream: string, version: number) {
  await this.capture(() =>
    emmettOf(this).emmett.aggregateStream<number, ShoppingCartEvent>(stream, { initialState: () => 0, evolve: (n: number) => n + 1, read: { expectedStreamVersion: BigInt(version) } }),
  );
});

Then('aggregating {string} expecting stream version {int} folds {int} events', async function (this: EventfoldWorld, stream: string, version: number, count: number) {
  const result = await emmettOf(this).emmett.aggregateStream<number, ShoppingCartEvent>(stream, {
    initialState: () => 0,
    evolve: (n: number) => n + 1,
    read: { expectedStreamVersion: BigInt(version) },
  });
  expect(result).to.include({ state: count, currentStreamVersion: BigInt(version), streamExists: true });
});

When(
  /^two AddProductItem commands for "(.+)" run at once, both having read the cart at version (\d+), (with Emmett's retry option onVersionConflict|without a retry option)$/,
  async function (this: EventfoldWorld, cart: string, version: string, retry: string) {
    const steps = emmettOf(this);
    const handleCart = CommandHandler<ShoppingCart, ShoppingCartEvent>({
      evolve,
      initialState,
      ...(retry.startsWith('with ') ? { retry: { onVersionConflict: true } } : {}),
    });
    // Each command's handler waits until both have read the cart, so both decide on the same version and append expecting it.
    let arrived = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    steps.handlerCalls = 0;
    const add = (productId: string) =>
      handleCart(steps.emmett, cart, async (state) => {
        steps.handlerCalls!++;
        expect(state.status).to.equal('Opened');
        if (++arrived === 2) bothRead();
        await barrier;
        return decide({ type: 'AddProductItem', data: { productId, quantity: 1 } }, state);
      });
    expect(this.store!.streamVersion(cart) + 1).to.equal(Number(version));
    steps.outcomes = await Promise.allSettled([add('socks'), add('shoes')]);
  },
);

Then('both commands succeed', function (this: EventfoldWorld) {
  expect(emmettOf(this).outcomes!.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled']);
});

Then('the handler function ran {int} times: once for each command and once more for the retried one', function (this: EventfoldWorld, times: number) {
  expect(emmettOf(this).handlerCalls).to.equal(times);
});

Then(
  "one command succeeds and the other fails with an error Emmett's isExpectedVersionConflictError recognises",
  function (this: EventfoldWorld) {
    const outcomes = emmettOf(this).outcomes!;
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(failed).to.have.length(1);
    expect(isExpectedVersionConflictError(failed[0].reason)).to.equal(true);
  },
);
