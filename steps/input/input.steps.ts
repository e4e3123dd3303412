import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { InvalidInputError, type EventInput } from '../../src/index';
import { logBytes } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Each stream name tried, and what its append returned or threw. */
const appendsByName = scenarioState(() => ({ outcomes: {} as Record<string, unknown> }));

const selfReferencing = (): Record<string, unknown> => {
  const data: Record<string, unknown> = { name: 'loop' };
  data.self = data;
  return data;
};

/** Each bad input as a user might write it by mistake: stream, events, options. */
const badAppends: Record<string, () => [string, unknown, unknown]> = {
  'a stream name with a lone surrogate': () => ['acct-\uD800', [{ type: 'T' }], undefined],
  'an event type with a lone surrogate': () => ['good', [{ type: '\uDC00Opened' }], undefined],
  'an event id with a lone surrogate': () => ['good', [{ type: 'T' }, { type: 'T', id: 'id-\uDBFF' }], undefined],
  'metadata with a lone surrogate': () => ['good', [{ type: 'T', metadata: { by: 'ann\uDFFF' } }], undefined],
  'an event that is not an object': () => ['good', [{ type: 'T' }, null], undefined],
  'the misspelt option expectVersion': () => ['good', [{ type: 'T' }], { expectVersion: 5 }],
  'options that are null': () => ['good', [{ type: 'T' }], null],
  'an empty stream name': () => ['', [{ type: 'T' }], undefined],
  'a stream name of 300 bytes': () => ['s'.repeat(300), [{ type: 'T' }], undefined],
  'an event without a type': () => ['good', [{ data: { a: 1 } }], undefined],
  'no events at all': () => ['good', [], undefined],
  'data holding a function': () => ['good', [{ type: 'T', data: { f: () => 1 } }], undefined],
  'data holding a Map': () => ['good', [{ type: 'T', data: { m: new Map([[1, 2]]) } }], undefined],
  'data that refers to itself': () => ['good', [{ type: 'T', data: selfReferencing() }], undefined],
  'an event of 2 MiB': () => ['good', [{ type: 'T', data: { blob: 'x'.repeat(2 * 1024 * 1024) } }], undefined],
  'expected version -1': () => ['good', [{ type: 'T' }], { expectedVersion: -1 }],
  'expected version "latest"': () => ['good', [{ type: 'T' }], { expectedVersion: 'latest' }],
};

When('an append is made with {}', async function (this: EventfoldWorld, problem: string) {
  const make = badAppends[problem];
  if (!make) throw new Error(`no bad input called "${problem}"`);
  const [stream, events, options] = make();
  this.logBytesBefore = await logBytes(this);
  await this.capture(() => this.store!.append(stream, events as EventInput[], options as never));
});

When('events are appended to the streams {string}, {string} and {string}', async function (this: EventfoldWorld, a: string, b: string, c: string) {
  const { outcomes } = appendsByName(this);
  for (const escaped of [a, b, c]) {
    const name = unescape(escaped);
    outcomes[escaped] = await this.store!.append(name, [{ type: 'Opened' }]).catch((error: unknown) => error);
  }
});

Then('the appends to {string} and {string} were refused with an InvalidInputError', function (this: EventfoldWorld, a: string, b: string) {
  const { outcomes } = appendsByName(this);
  for (const name of [a, b]) expect(outcomes[name], name).to.be.instanceOf(InvalidInputError);
});

Then('after a reopen the store lists the streams {string} and {string}', async function (this: EventfoldWorld, a: string, b: string) {
  await this.store!.close();
  await this.openStore();
  expect(this.store!.streams().sort()).to.deep.equal([a, b].sort());
});

Then('{string} reads back its {int} event', async function (this: EventfoldWorld, stream: string, count: number) {
  const events = [];
  for await (const e of this.store!.readStream(stream)) events.push(e);
  expect(events).to.have.length(count);
  expect(events[0].stream).to.equal(stream);
});

/** "\uD800" in a feature file stands for that UTF-16 code unit (Gherkin has no escapes). */
function unescape(text: string): string {
  return text.replace(/\\u([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

Then('{string} can still append {int} event expecting version {int}', async function (this: EventfoldWorld, stream: string, count: number, version: number) {
  const result = await this.store!.append(stream, Array.from({ length: count }, () => ({ type: 'Again' })), { expectedVersion: version });
  expect(result.version).to.equal(version + count);
});
