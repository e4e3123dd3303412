// Type-level tests of the public API, compiled under strict against the built
// package by features/typed-api/typed-api.feature. Lines after
// `// @ts-expect-error TSnnnn` must fail with that error code; everything
// else must compile, with no casts.
import {
  EventStore,
  NO_STREAM,
  STREAM_EXISTS,
  matchesExpectedVersion,
  type ExpectedVersion,
  type Projection,
  type RecordedEvent,
  type AppendOptions,
  type AppendResult,
  type ReadStreamOptions,
  type ReadAllOptions,
  type SubscribeOptions,
  type AggregateStreamOptions,
  type CheckpointResult,
  type StoreOptions,
  UnknownProjectionError,
  InvalidInputError,
} from 'eventfold';
import { getEventfoldEventStore } from 'eventfold/emmett';
import type { EventStore as EmmettEventStore } from '@event-driven-io/emmett';

type BankEvent =
  | { type: 'Opened'; data: { owner: string } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Closed' };
type Balances = Record<string, number>;

const store = await EventStore.inMemory<BankEvent, { balances: Balances }>({
  projections: {
    balances: {
      initialState: {},
      version: 1,
      evolve(draft, e) {
        if (e.type === 'Deposited') draft[e.stream] = (draft[e.stream] ?? 0) + e.data.amount;
      },
    },
  },
});

// Correct shapes compile.
const result: AppendResult = await store.append('account-1', [{ type: 'Opened', data: { owner: 'ann' } }, { type: 'Deposited', data: { amount: 5 } }], {
  expectedVersion: NO_STREAM,
});
await store.append('account-1', [{ type: 'Closed', id: 'closing-1' }], { expectedVersion: result.version });
await store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: STREAM_EXISTS });
const someVersion: number = store.streamVersion('account-1');
await store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: someVersion });
const named: ExpectedVersion = 'any';
await store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: named });
const options: AppendOptions = { expectedVersion: 'stream_exists' };
await store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], options);
const matches: boolean = matchesExpectedVersion(NO_STREAM, -1);

// Reads narrow on `type`.
const readOptions: ReadStreamOptions = { direction: 'backward', limit: 2 };
for await (const e of store.readStream('account-1', readOptions)) {
  if (e.type === 'Deposited') {
    const amount: number = e.data.amount;
  } else if (e.type === 'Opened') {
    const owner: string = e.data.owner;
  }
}
const allOptions: ReadAllOptions = { from: 0 };
for await (const e of store.readAll(allOptions)) {
  const type: 'Opened' | 'Deposited' | 'Closed' = e.type;
}
const subscribeOptions: SubscribeOptions = { from: -1 };
const sub = await store.subscribe('typed', (e) => {
  if (e.type === 'Opened') console.log(e.data.owner.toUpperCase());
}, subscribeOptions);
await sub.stop();
const aggregate: AggregateStreamOptions<{ balance: number }, BankEvent> = {
  initialState: { balance: 0 },
  evolve(draft, e) {
    if (e.type === 'Deposited') draft.balance += e.data.amount;
  },
};
const folded: { balance: number } = await store.aggregateStream('account-1', aggregate);
const inline = await store.aggregateStream('account-1', { initialState: { count: 0 }, evolve: (d) => void d.count++ });
const count: number = inline.count;

// Projection states are typed by name, read-only.
const balance: number | undefined = store.state('balances')['account-1'];
const checkpoint: CheckpointResult | null = await store.checkpoint();
const typedEvent: RecordedEvent<BankEvent>[] = [];

// Without type arguments the projections' states are inferred from them.
const counting = await EventStore.inMemory({
  projections: { counter: { initialState: { events: 0 }, version: 1, evolve: (d) => void d.events++ } },
});
const events: number = counting.state('counter').events;

// A store opened without a union accepts any event and reads back unknown data.
const loose = await EventStore.inMemory();
await loose.append('anything', [{ type: 'Whatever', data: { a: [1, 2] }, metadata: { by: 'x' } }]);
for await (const e of loose.readAll()) {
  const data: unknown = e.data;
}
const unknownName: boolean = new UnknownProjectionError('x', []) instanceof InvalidInputError;
const storeOptions: StoreOptions<BankEvent, { balances: Balances }> = { durability: 'flush' };
const projection: Projection<Balances, BankEvent> = { initialState: {}, version: 2, evolve: () => undefined };

// Wrong event shapes do not compile.
// @ts-expect-error TS2322 a number, not a string
await store.append('account-1', [{ type: 'Deposited', data: { amount: '5' } }]);
// @ts-expect-error TS2322 not one of the declared types
await store.append('account-1', [{ type: 'Withdrawn', data: { amount: 5 } }]);
// @ts-expect-error TS2322 data is required for a deposit
await store.append('account-1', [{ type: 'Deposited' }]);
// @ts-expect-error TS2353 no such field in a deposit
await store.append('account-1', [{ type: 'Deposited', data: { amount: 5, currency: 'EUR' } }]);
// @ts-expect-error TS2353 an Opened event's data is an owner
await store.append('account-1', [{ type: 'Opened', data: { amount: 5 } }]);
// @ts-expect-error TS2353 events are an array
await store.append('account-1', { type: 'Closed' });

// Reads do not pretend: without narrowing there is no `amount`.
for await (const e of store.readStream('account-1')) {
  // @ts-expect-error TS2339 not every event has data with an amount
  console.log(e.data.amount);
}
await store.subscribe('wrong', (e) => {
  // @ts-expect-error TS2367 no such event type
  if (e.type === 'Withdrawn') return;
});
await store.aggregateStream('account-1', {
  initialState: { balance: 0 },
  evolve(draft, e) {
    // @ts-expect-error TS2339 `owner` belongs to Opened only
    draft.balance += e.data.owner;
  },
});

// Wrong projection names do not compile, nor do changes to a frozen state.
// @ts-expect-error TS2345 no projection named "balance"
store.state('balance');
// @ts-expect-error TS2345 the counting store has no "balances"
counting.state('balances');
// @ts-expect-error TS2542 the state is read-only
store.state('balances')['account-1'] = 0;
// @ts-expect-error TS2540 the state is read-only
counting.state('counter').events = 0;
await EventStore.inMemory<BankEvent>({
  // @ts-expect-error TS2322 given the events but not the states, the projections would be untyped: name them
  projections: { balances: { initialState: {}, version: 1, evolve: () => undefined } },
});
const withoutProjections = await EventStore.inMemory<BankEvent>();
// @ts-expect-error TS2345 opened without projections
withoutProjections.state('balances');
await EventStore.inMemory<BankEvent, { balances: Balances }>({
  // @ts-expect-error TS2322 the declared state is a record of numbers
  projections: { balances: { initialState: { total: 'none' }, version: 1, evolve: () => undefined } },
});
await EventStore.inMemory<BankEvent, { balances: Balances }>({
  projections: {
    balances: {
      initialState: {},
      version: 1,
      evolve(draft, e) {
        // @ts-expect-error TS2322 a balance is a number
        if (e.type === 'Opened') draft[e.stream] = e.data.owner;
      },
    },
  },
});

// Bogus expected versions do not compile.
// @ts-expect-error TS2322 another store's "no stream"; here it is 'no_stream'
await store.append('account-1', [{ type: 'Closed' }], { expectedVersion: -1 });
// @ts-expect-error TS2322 versions are whole numbers
await store.append('account-1', [{ type: 'Closed' }], { expectedVersion: 1.5 });
// @ts-expect-error TS2820 a misspelt name
await store.append('account-1', [{ type: 'Closed' }], { expectedVersion: 'no-stream' });
// @ts-expect-error TS2322 Emmett's bigint positions are not eventfold versions
await store.append('account-1', [{ type: 'Closed' }], { expectedVersion: 1n });
// @ts-expect-error TS2322 null is not a version
await store.append('account-1', [{ type: 'Closed' }], { expectedVersion: null });
// @ts-expect-error TS2345 matching takes a version, not a boolean
matchesExpectedVersion(true, 0);

// The Emmett adapter takes any typed store and is Emmett's EventStore.
const emmettStore: EmmettEventStore = getEventfoldEventStore(store);
const appended = await getEventfoldEventStore(counting).appendToStream('cart-1', [{ type: 'CartOpened', data: { cartId: 'cart-1' } }]);
const position: bigint = appended.nextExpectedStreamVersion;
// @ts-expect-error TS2345 an eventfold store, not any object
getEventfoldEventStore({});
// @ts-expect-error TS2322 Emmett's expected versions are bigints, not eventfold's numbers
await getEventfoldEventStore(store).appendToStream('cart-1', [{ type: 'CartOpened', data: {} }], { expectedStreamVersion: 1 });

await store.close();
await counting.close();
await loose.close();
await withoutProjections.close();
export { emmettStore, position, balance, checkpoint, count, events, folded, matches, projection, storeOptions, typedEvent, unknownName };
