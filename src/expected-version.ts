/**
 * Optimistic concurrency: what an append expects of its stream. One module
 * holds the names, the type and the rule, so the store, the validation and
 * the Emmett adapter cannot disagree about what matches.
 */

/** Append whatever the stream's version (the default). */
export const ANY = 'any';
/** The stream must have no events yet. */
export const NO_STREAM = 'no_stream';
/** The stream must have at least one event. */
export const STREAM_EXISTS = 'stream_exists';

/**
 * `'any'`, `'no_stream'`, `'stream_exists'`, or the stream's current last
 * version (a whole number >= 0; versions count from 0 in each stream).
 */
export type ExpectedVersion = typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS | number;

/**
 * Compile-time guard for a literal expected version: a negative or fractional
 * number literal (such as another store's `-1` for "no stream") becomes
 * `never`, so it does not compile. Non-literal numbers are checked at run time.
 */
export type ValidExpectedVersion<V> = V extends number
  ? `${V}` extends `-${string}` | `${string}.${string}` | `${string}e${string}` | 'NaN' | 'Infinity'
    ? never
    : V
  : V extends ExpectedVersion
    ? V
    : never;

/**
 * True when a stream whose last version is `current` (-1: no events) meets
 * `expected`. Pure: no I/O, no side effects.
 */
export function matchesExpectedVersion(expected: ExpectedVersion, current: number): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return current === -1;
    case STREAM_EXISTS:
      return current >= 0;
    default:
      return expected === current;
  }
}

/** True for every value `matchesExpectedVersion` accepts as `expected`. */
export function isExpectedVersion(value: unknown): value is ExpectedVersion {
  return value === ANY || value === NO_STREAM || value === STREAM_EXISTS || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
}
