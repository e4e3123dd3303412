import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { EventInput } from '../src/index';
import { appendVia } from './storage.steps';
import type { EventfoldWorld } from './support/world';

const selfReferencing = (): Record<string, unknown> => {
  const data: Record<string, unknown> = { name: 'loop' };
  data.self = data;
  return data;
};

/** Each bad input as a user might write it by mistake. */
const badAppends: Record<string, () => [string, unknown, unknown]> = {
  'an empty stream name': () => ['', [{ type: 'T' }], undefined],
  'a stream name of 300 bytes': () => ['s'.repeat(300), [{ type: 'T' }], undefined],
  'an event without a type': () => ['good', [{ data: { a: 1 } }], undefined],
  'no events at all': () => ['good', [], undefined],
  'data holding a function': () => ['good', [{ type: 'T', data: { f: () => 1 } }], undefined],
  'data holding a Map': () => ['good', [{ type: 'T', data: { m: new Map([[1, 2]]) } }], undefined],
  'data that refers to itself': () => ['good', [{ type: 'T', data: selfReferencing() }], undefined],
  'an event of 2 MiB': () => ['good', [{ type: 'T', data: { blob: 'x'.repeat(2 * 1024 * 1024) } }], undefined],
  'expected version -1': () => ['good', [{ type: 'T' }], -1],
  'expected version "latest"': () => ['good', [{ type: 'T' }], 'latest'],
};

When('an append is made with {}', async function (this: EventfoldWorld, problem: string) {
  const make = badAppends[problem];
  if (!make) throw new Error(`no bad input called "${problem}"`);
  const [stream, events, expectedVersion] = make();
  await appendVia(this, stream, events as EventInput[], expectedVersion as never);
});

Then('the last append was rejected with an InvalidInputError mentioning {string}', function (this: EventfoldWorld, text: string) {
  expect((this.lastError as Error)?.name, String(this.lastError)).to.equal('InvalidInputError');
  expect((this.lastError as Error).message).to.contain(text);
});

Then('{string} can still append {int} event expecting version {int}', async function (this: EventfoldWorld, stream: string, count: number, version: number) {
  const result = await this.store!.append(stream, Array.from({ length: count }, () => ({ type: 'Again' })), { expectedVersion: version });
  expect(result.version).to.equal(version + count);
});
