import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { isDeepStrictEqual } from 'node:util';
import type { EventfoldWorld } from '../support/world';

/** The values of the outline, as an application would hold them. */
const VALUES: Record<string, () => unknown> = {
  'a Set of the tags "red" and "blue"': () => new Set(['red', 'blue']),
  'the bytes 1, 2, 3 as a Uint8Array': () => new Uint8Array([1, 2, 3]),
  'the measures 1.5 and 2.5 as a Float64Array': () => new Float64Array([1.5, 2.5]),
  '3 zero bytes as an ArrayBuffer': () => new ArrayBuffer(3),
  '2 to the power of 100 as a bigint': () => 2n ** 100n,
  'the text "hi" as a Buffer': () => Buffer.from('hi'),
};

function valueNamed(name: string): unknown {
  const make = VALUES[name];
  if (!make) throw new Error(`no value called "${name}"`);
  return make();
}

Given('a new store with a {string} projection that keeps the value of the last event', async function (this: EventfoldWorld, name: string) {
  this.storeOptions = {
    projections: {
      [name]: {
        initialState: { value: null as unknown },
        version: 1,
        evolve(draft: { value: unknown }, event: { data: unknown }) {
          draft.value = (event.data as { value: unknown }).value;
        },
      },
    },
  };
  await this.openStore();
});

Given('{string} has 1 event holding {}', async function (this: EventfoldWorld, stream: string, value: string) {
  await this.store!.append(stream, [{ type: 'Catalogued', data: { value: valueNamed(value) } }]);
});

When('a checkpoint is taken and the store is reopened', async function (this: EventfoldWorld) {
  await this.store!.checkpoint();
  await this.store!.close();
  await this.openStore();
});

Then('the store was opened from the snapshot', function (this: EventfoldWorld) {
  expect(this.store!.recovery.snapshot.used, 'a snapshot should have been used').to.be.a('string');
});

Then('the {string} state holds {}, of the same type', function (this: EventfoldWorld, name: string, value: string) {
  const expected = valueNamed(value);
  const actual = (this.store!.state(name as never) as { value: unknown }).value;
  expect(Object.prototype.toString.call(actual)).to.equal(Object.prototype.toString.call(expected));
  expect(Object.getPrototypeOf(actual)).to.equal(Object.getPrototypeOf(expected));
  expect(isDeepStrictEqual(actual, expected), `${String(actual)}`).to.equal(true);
});
