import fc from 'fast-check';

/**
 * fast-check arbitraries for the data model: plain data that must read back
 * exactly, and malformed input that must be refused. Each refused case says
 * which words the InvalidInputError must contain.
 */

/** Strings over all of Unicode, astral characters and grapheme clusters included (always well-formed). */
export const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ maxLength: 8 }));

/** Object keys: any well-formed string but "__proto__" (refused by the data model). */
const key = text.filter((k) => k !== '__proto__');

const edgeNumbers = fc.constantFrom(
  0, 1, -1, 0.1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity,
);

/** Numbers as JavaScript has them, except -0 (refused by the data model). */
const number = fc.oneof(fc.double().filter((n) => !Object.is(n, -0)), fc.integer(), edgeNumbers);

const binary = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  fc.float64Array({ maxLength: 4 }),
  fc.int32Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => bytes.slice().buffer),
);

const leaf = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 4, arbitrary: number },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n })) },
  { weight: 1, arbitrary: fc.date() },
  { weight: 2, arbitrary: binary },
);

/** Any value of the data model: nested objects (some without a prototype), arrays and Sets of leaves. */
export const plainData: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    fc.array(leaf, { maxLength: 4 }).map((items) => new Set(items)),
  ),
})).value;

/** Names for streams, types and ids: 1 to 24 code points of any well-formed Unicode. */
export const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 });

export const eventInput = fc.record(
  { type: name, data: plainData, metadata: plainData, id: name },
  { requiredKeys: ['type'] },
);

/** A well-formed string with one lone surrogate inserted: never well-formed again. */
export const loneSurrogateText = fc
  .tuple(text, fc.nat(), fc.integer({ min: 0xd800, max: 0xdfff }))
  .map(([s, at, unit]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + String.fromCharCode(unit) + s.slice(i);
  });

class Money {
  constructor(readonly cents: number) {}
}
class Stamp extends Date {}

export interface Malformed {
  value: unknown;
  /** Words the refusal must contain. */
  says: string;
}

const refusedObjects: Array<() => Malformed> = [
  () => ({ value: -0, says: 'is -0 (negative zero)' }),
  () => ({ value: new Map([[1, 2]]), says: 'is a Map' }),
  () => ({ value: Symbol('s'), says: 'is a symbol' }),
  () => ({ value: () => 1, says: 'is a function' }),
  () => ({ value: new Money(1), says: 'is a Money object' }),
  () => ({ value: new Stamp(0), says: 'is a Stamp object' }),
  // eslint-disable-next-line no-sparse-arrays
  () => ({ value: [1, , 3], says: 'is a hole in an array' }),
  () => ({ value: JSON.parse('{"__proto__": {"x": 1}}'), says: 'is a __proto__ key' }),
  () => ({ value: { [Symbol('k')]: 1 }, says: 'has a symbol-keyed property' }),
  () => ({ value: new WeakMap(), says: 'is a WeakMap' }),
  () => ({ value: new DataView(new ArrayBuffer(2)), says: 'is a DataView' }),
  () => ({ value: Promise.resolve(1), says: 'is a Promise' }),
  () => ({ value: /x/, says: 'is a RegExp' }),
  () => ({ value: new Error('x'), says: 'is an Error' }),
  () => ({
    value: Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    }),
    says: 'could not be read: getter exploded',
  }),
];

/** Values the data model refuses, each with the words of its refusal (every kind equally likely). */
const badLeaf: fc.Arbitrary<Malformed> = fc.oneof(
  loneSurrogateText.map((value) => ({ value, says: 'lone surrogate' })),
  loneSurrogateText.map((k) => ({ value: { [k]: 1 }, says: 'has a key with a lone surrogate' })),
  ...refusedObjects.map((make) => fc.constant(null).map(() => make())),
);

/** A refused value buried at a random place inside otherwise plain data. */
export const malformedData: fc.Arbitrary<Malformed> = fc
  .tuple(badLeaf, fc.array(fc.tuple(fc.boolean(), key, plainData), { maxLength: 4 }))
  .map(([bad, levels]) => {
    let value = bad.value;
    for (const [asArray, k, sibling] of levels) {
      // The plain sibling comes first, so the refused value is the first problem found.
      value = asArray ? [sibling, value] : { [`${k}~`]: sibling, [k]: value };
    }
    return { value, says: bad.says };
  });

/** A bad append: malformed data or metadata, a malformed name, or bad options. */
export const malformedAppend: fc.Arbitrary<{ stream: unknown; events: unknown; options: unknown; says: string | string[] }> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(name, malformedData, fc.boolean()).map(([stream, bad, inMetadata]) => ({
    stream,
    events: [{ type: 'Good', data: 1 }, inMetadata ? { type: 'Bad', metadata: bad.value } : { type: 'Bad', data: bad.value }],
    options: undefined,
    says: [`event 1 ${inMetadata ? 'metadata' : 'data'}`, bad.says],
  })) },
  loneSurrogateText.map((stream) => ({ stream, events: [{ type: 'T' }], options: undefined, says: 'stream name has a lone surrogate' })),
  loneSurrogateText.map((type) => ({ stream: 's', events: [{ type }], options: undefined, says: 'event 0 type has a lone surrogate' })),
  loneSurrogateText.map((id) => ({ stream: 's', events: [{ type: 'T', id }], options: undefined, says: 'event 0 id has a lone surrogate' })),
  fc.string({ unit: 'binary', minLength: 257, maxLength: 400 }).map((stream) => ({ stream, events: [{ type: 'T' }], options: undefined, says: 'the limit is 256 bytes' })),
  key
    .filter((k) => k !== 'expectedVersion')
    .map((k) => ({ stream: 's', events: [{ type: 'T' }], options: { [k]: 0 }, says: 'append options has an unknown option' })),
  fc.oneof(fc.double(), fc.string(), fc.boolean(), fc.constant(null)).filter((v) => !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) && !['any', 'no_stream', 'stream_exists'].includes(v as string))
    .map((v) => ({ stream: 's', events: [{ type: 'T' }], options: { expectedVersion: v }, says: 'expectedVersion must be' })),
  fc.constantFrom(null, 0, 'fsync', []).map((options) => ({ stream: 's', events: [{ type: 'T' }], options, says: 'append options must be an object' })),
);

/** Open options the store refuses: an unknown key, or a known key with a value of the wrong type or range. */
export const malformedOpenOptions: fc.Arbitrary<{ options: unknown; says: string }> = fc.oneof(
  key
    .filter((k) => !['durability', 'segmentSize', 'maxBatchEvents', 'maxBatchBytes', 'maxBatchDelayMs', 'maxQueueEvents', 'maxEventBytes', 'repair', 'fs', 'projections', 'snapshotEvery', 'snapshotEveryBytes', 'keepSnapshots', 'readOnly'].includes(k))
    .map((k) => ({ options: { [k]: 1 }, says: 'open options has an unknown option' })),
  fc
    .tuple(
      fc.constantFrom('segmentSize', 'maxBatchEvents', 'maxBatchBytes', 'maxQueueEvents', 'keepSnapshots', 'snapshotEvery', 'snapshotEveryBytes', 'maxEventBytes'),
      fc.oneof(fc.double({ min: -1e9, max: -1 }), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, '10', true, null, {}, 1e300)),
    )
    .map(([k, v]) => ({ options: { [k]: v }, says: `${k} must be a whole number` })),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null)).filter((v) => v !== 'fsync' && v !== 'flush').map((v) => ({ options: { durability: v }, says: "durability must be 'fsync' or 'flush'" })),
  fc.oneof(fc.string(), fc.boolean()).filter((v) => v !== 'none' && v !== 'truncate').map((v) => ({ options: { repair: v }, says: "repair must be 'none' or 'truncate'" })),
  fc.oneof(fc.constantFrom(NaN, -1, Infinity, 2 ** 31, '5', null)).map((v) => ({ options: { maxBatchDelayMs: v }, says: 'maxBatchDelayMs must be' })),
  fc.constantFrom(null, 5, 'flush', true).map((options) => ({ options, says: 'open options must be an object' })),
);
