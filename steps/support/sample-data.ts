/**
 * Values named in the data-model feature, each built fresh for the scenario
 * that names it: what a user might put in an event's data.
 */
class Money {
  constructor(readonly cents: number) {}
}
class Stamp extends Date {}
class Items extends Array<number> {}

const lone = 'acct-\uD800';

export const KEPT_VALUES: Record<string, () => unknown> = {
  'astral characters "🎉 𝄞 👩‍👩‍👧"': () => ({ text: 'party 🎉, clef 𝄞, family 👩‍👩‍👧' }),
  'NaN, Infinity and -Infinity': () => ({ values: [NaN, Infinity, -Infinity] }),
  'the largest and smallest safe integers': () => ({ values: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 5e-324] }),
  'a bigint of 64 bits': () => ({ big: 18446744073709551615n, small: -9223372036854775808n, one: 1n }),
  'a bigint of 200 bits': () => ({ big: 2n ** 200n + 12345n, negative: -(2n ** 199n) }),
  'a Date': () => ({ at: new Date(Date.UTC(2026, 10, 23, 21, 30, 0, 123)), before1970: new Date(-1) }),
  'an invalid Date': () => ({ at: new Date(NaN) }),
  'a Uint8Array': () => ({ bytes: new Uint8Array([0, 1, 254, 255]) }),
  'a Buffer': () => ({ bytes: Buffer.from('cafe', 'hex') }),
  'a Float64Array': () => ({ samples: new Float64Array([1.5, -0, NaN]) }),
  'a BigInt64Array': () => ({ counters: new BigInt64Array([-1n, 2n ** 62n]) }),
  'an ArrayBuffer': () => ({ raw: new Uint8Array([9, 8, 7]).buffer }),
  'a Set': () => ({ tags: new Set(['a', 'b', { nested: 1 }]) }),
  'undefined inside an array': () => ({ list: [1, undefined, 3] }),
  'a key whose value is undefined': () => ({ present: 1, missing: undefined }),
  'an object without a prototype': () => Object.assign(Object.create(null), { a: 1, b: 'two' }),
  'keys named "constructor", "toString" and "hasOwnProperty"': () => ({ constructor: 1, toString: 'x', hasOwnProperty: null }),
  'numeric-looking keys': () => ({ b: 1, 10: 'ten', 2: 'two', a: 0 }),
  'a string at top level': () => 'just a string',
  'no data at all': () => undefined,
};

/** What each comes back as, when it is not simply "the same". */
export const READS_BACK_AS: Record<string, (value: unknown) => unknown> = {
  'no data at all': () => null,
};

export const REFUSED_VALUES: Record<string, () => unknown> = {
  '-0': () => ({ balance: -0 }),
  'a "__proto__" key': () => JSON.parse('{"account": {"__proto__": {"admin": true}}}'),
  'a symbol-keyed property': () => ({ [Symbol('secret')]: 1, visible: 2 }),
  'an array with a hole': () => ({ list: [1, , 3] }),
  'a Map': () => ({ byId: new Map([['a', 1]]) }),
  'a class instance': () => ({ price: new Money(5) }),
  'a Date subclass': () => ({ at: new Stamp(0) }),
  'an Array subclass': () => ({ items: Items.from([1, 2]) }),
  'a function': () => ({ callback: () => 1 }),
  'a symbol': () => ({ kind: Symbol('x') }),
  'a DataView': () => ({ view: new DataView(new ArrayBuffer(4)) }),
  'a Promise': () => ({ later: Promise.resolve(1) }),
  'a lone surrogate in a string': () => ({ note: `owner ${lone}` }),
  'a lone surrogate in a key': () => ({ [lone]: 1 }),
  'a getter that throws': () => ({
    get broken(): number {
      throw new Error('no value today');
    },
  }),
  'a proxy whose traps throw': () => ({
    nested: new Proxy({}, {
      getPrototypeOf() {
        throw new Error('trap says no');
      },
    }),
  }),
  'data nested 65 levels deep': () => {
    let value: unknown = 'bottom';
    for (let i = 0; i < 65; i++) value = [value];
    return value;
  },
};
