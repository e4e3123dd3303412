import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { AppendResult, EventInput } from '../../src/index';
import { logBytes } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

interface Pending {
  first: Promise<AppendResult>;
  waiting?: Promise<AppendResult>;
  waitingEvents?: EventInput[];
}

/** The appends held in the queue, and the result of the one the scenario checks. */
const queued = scenarioState(() => ({ pending: undefined as Pending | undefined, acknowledged: undefined as AppendResult | undefined }));

/** An append made from inside another one's check, and what each stream was given. */
const nested = scenarioState(() => ({ results: [] as Array<Promise<AppendResult>>, appended: new Map<string, { data: unknown; metadata: unknown }>() }));

Given('{string} has {int} {string} event waiting to be written', function (this: EventfoldWorld, stream: string, count: number, type: string) {
  const events = Array.from({ length: count }, () => ({ type }));
  queued(this).pending = { first: this.store!.append(stream, events) };
});

When('{string} appends {int} {string} event that waits for room in the queue', function (this: EventfoldWorld, stream: string, count: number, type: string) {
  const pending = queued(this).pending!;
  pending.waitingEvents = Array.from({ length: count }, () => ({ type }));
  pending.waiting = this.store!.append(stream, pending.waitingEvents);
});

When("the caller pushes a {string} event into that append's array while it waits", async function (this: EventfoldWorld, type: string) {
  const pending = queued(this).pending!;
  pending.waitingEvents!.push({ type });
  await pending.first;
  queued(this).acknowledged = await pending.waiting!;
});

When(
  '{string} appends {int} {string} event whose data getter pushes a {string} event into the array when read a second time',
  async function (this: EventfoldWorld, stream: string, count: number, type: string, sneaked: string) {
    expect(count).to.equal(1);
    const events: EventInput[] = [];
    let reads = 0;
    events.push({
      type,
      get data() {
        if (++reads === 2) events.push({ type: sneaked });
        return { amount: 1 };
      },
    });
    queued(this).acknowledged = await this.store!.append(stream, events);
  },
);

When(
  '{string} appends an event with metadata whose data getter appends an {string} event with metadata to {string}',
  function (this: EventfoldWorld, stream: string, innerType: string, innerStream: string) {
    const state = nested(this);
    const inner = { data: { note: 'from the getter', amounts: [1, 2.5, -3] }, metadata: { by: 'getter' } };
    state.appended.set(innerStream, inner);
    state.appended.set(stream, { data: { before: 'b', during: 'd', after: 'a', list: ['x', 1] }, metadata: { by: 'ann', tags: ['vip'] } });
    const store = this.store!;
    const data = {
      before: 'b',
      // Read while the outer event is checked: the inner append is checked (and framed) in the middle of it.
      get during() {
        state.results.push(store.append(innerStream, [{ type: innerType, ...inner }]));
        return 'd';
      },
      after: 'a',
      list: ['x', 1],
    };
    state.results.push(store.append(stream, [{ type: 'Placed', data, metadata: { by: 'ann', tags: ['vip'] } }]));
  },
);

Then('both appends are acknowledged', async function (this: EventfoldWorld) {
  const results = await Promise.all(nested(this).results);
  expect(results.map((result) => result.version)).to.deep.equal([0, 0]);
  expect(results.map((result) => result.position).sort()).to.deep.equal([0, 1]);
});

Then(
  'after a reopen {string} and {string} read back each event with the data and metadata it was appended with',
  async function (this: EventfoldWorld, first: string, second: string) {
    await this.store!.close();
    await this.openStore();
    for (const stream of [first, second]) {
      const events = [];
      for await (const event of this.store!.readStream(stream)) events.push({ data: event.data, metadata: event.metadata });
      expect(events, stream).to.deep.equal([nested(this).appended.get(stream)]);
    }
  },
);

Then('the {string} append is acknowledged at position {int}, version {int}', function (this: EventfoldWorld, _type: string, position: number, version: number) {
  expect(queued(this).acknowledged).to.deep.equal({ position, version });
});

Then(
  '{string} appends {int} {string} event acknowledged at position {int}, version {int}',
  async function (this: EventfoldWorld, stream: string, count: number, type: string, position: number, version: number) {
    const events = Array.from({ length: count }, () => ({ type }));
    expect(await this.store!.append(stream, events)).to.deep.equal({ position, version });
  },
);

Then('after a reopen the store holds exactly {int} events: {}', async function (this: EventfoldWorld, count: number, list: string) {
  await this.store!.close();
  await this.openStore({ maxQueueEvents: undefined });
  const types: string[] = [];
  const positions: number[] = [];
  for await (const event of this.store!.readAll()) {
    types.push(event.type);
    positions.push(event.position);
  }
  expect(types).to.deep.equal(list.split(', ').map((quoted) => JSON.parse(quoted)));
  expect(positions).to.deep.equal(Array.from({ length: count }, (_, i) => i));
});

/** The values of the outline, as a caller would write them. */
function valueOf(text: string): unknown {
  if (text === 'a Map') return new Map([['vip', true]]);
  if (text === 'a 1000-character type') return 'x'.repeat(1000);
  const quoted = /^"(.*)"/.exec(text);
  if (quoted) return quoted[1].replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return JSON.parse(text);
}

/** A getter that answers `first` once and `later` every time after. */
function flip(first: unknown, later: unknown): () => unknown {
  let reads = 0;
  return () => (reads++ === 0 ? first : later);
}

When(
  '{string} appends {int} event whose {} is a getter returning {} the first time and {} afterwards',
  async function (this: EventfoldWorld, stream: string, count: number, field: string, first: string, later: string) {
    expect(count).to.equal(1);
    const read = flip(valueOf(first), valueOf(later));
    let event: EventInput;
    if (field === 'type') {
      event = Object.defineProperty({ data: { amount: 10 } }, 'type', { get: read, enumerable: true }) as EventInput;
    } else {
      const key = field.replace(/^data /, '');
      event = { type: 'Paid', data: Object.defineProperty({}, key, { get: read, enumerable: true }) };
    }
    await this.store!.append(stream, [event]);
  },
);

Then('{string} reads back its event with {} {}', async function (this: EventfoldWorld, stream: string, field: string, first: string) {
  const events = [];
  for await (const event of this.store!.readStream(stream)) events.push(event);
  expect(events).to.have.length(1);
  const actual = field === 'type' ? events[0].type : (events[0].data as Record<string, unknown>)[field.replace(/^data /, '')];
  const expected = valueOf(first);
  expect(Object.is(actual, expected), `${String(actual).slice(0, 40)} is ${String(expected)}`).to.equal(true);
});

/** Lines "a" and "b", line 1 not enumerable (so the array's keys are one fewer than its length). */
function withHiddenLine(): string[] {
  const lines = ['a', 'b'];
  Object.defineProperty(lines, '1', { value: 'b', enumerable: false, writable: true, configurable: true });
  return lines;
}

/** `lines` behind a Proxy whose key list puts "note" before the items. */
function listingNoteFirst(lines: string[]): string[] {
  return new Proxy(lines, { ownKeys: (target) => ['note', ...Reflect.ownKeys(target).filter((key) => key !== 'note')] });
}

/** Data msgpack would not give back whole, and a misspelt key, as a caller might write them. */
const lossyEvents: Record<string, () => Record<string, unknown>> = {
  'a list of lines with an extra "note"': () => ({ type: 'T', data: { lines: Object.assign(['a', 'b'], { note: 'kept?' }) } }),
  'a list of lines with a hidden line and an extra "note"': () => ({ type: 'T', data: { lines: Object.assign(withHiddenLine(), { note: 'kept?' }) } }),
  'a proxied list of lines listing an extra "note" first': () => ({ type: 'T', data: { lines: listingNoteFirst(Object.assign(withHiddenLine(), { note: 'kept?' })) } }),
  'a list of lines with a hidden line': () => ({ type: 'T', data: { lines: withHiddenLine() } }),
  'a date with an extra "tz"': () => ({ type: 'T', data: { at: Object.assign(new Date(0), { tz: 'Europe/Paris' }) } }),
  'a set of tags with an extra "label"': () => ({ type: 'T', data: { tags: Object.assign(new Set(['vip']), { label: 'x' }) } }),
  'photo bytes with an extra "mime"': () => ({ type: 'T', data: { photo: Object.assign(new Uint8Array([7]), { mime: 'image/png' }) } }),
  'the misspelt key "metdata"': () => ({ type: 'T', data: {}, metdata: { by: 'ann' } }),
  'a note of 134,217,728 characters': () => ({ type: 'T', data: { note: 'x'.repeat(2 ** 27) } }),
};

When('an event is appended with {}', async function (this: EventfoldWorld, problem: string) {
  const make = lossyEvents[problem];
  if (!make) throw new Error(`no event called "${problem}"`);
  this.logBytesBefore = await logBytes(this);
  await this.capture(() => this.store!.append('good', [make() as unknown as EventInput]));
});
