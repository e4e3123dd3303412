import { InvalidInputError } from '../errors';
import { inspect, types } from 'node:util';
import { LIMITS } from './limits';

/**
 * The data model: what event data, metadata and snapshotted projection
 * states may hold. Everything accepted here reads back exactly as it went in
 * (see the table in README "Data model"); everything else is refused with
 * InvalidInputError naming where it is, before anything is written.
 *
 * This walk is on the append hot path: one pass that checks and copies (the
 * path to a refused value is built while the error unwinds, not while walking).
 */

declare global {
  interface String {
    /** ES2024, in Node since 20: false when the string holds a lone UTF-16 surrogate. */
    isWellFormed(): boolean;
  }
}

/** Thrown inside the walk; carries the path to the refused value, innermost first. */
export class Refusal {
  readonly path: Array<string | number> = [];
  constructor(readonly reason: string) {}
}

// Binary values msgpackr stores with their exact type (bin for Buffer, its
// typed-array extension for the others): they come back as what went in.
const BINARY_PROTOTYPES = new Set<object>([
  Buffer.prototype,
  Uint8Array.prototype,
  Uint8ClampedArray.prototype,
  Int8Array.prototype,
  Uint16Array.prototype,
  Int16Array.prototype,
  Uint32Array.prototype,
  Int32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
  ArrayBuffer.prototype,
]);

/** msgpackr writes an object as a map with a 16-bit size. */
const MAX_MAP_KEYS = 0xffff;

/** Why some objects are refused, in words a user can act on. */
const REFUSED_OBJECTS = new Map<object, string>([
  [Map.prototype, 'a Map (msgpack would turn it into a plain object; store an object or an array of [key, value] pairs)'],
  [WeakMap.prototype, 'a WeakMap, which cannot be stored'],
  [WeakSet.prototype, 'a WeakSet, which cannot be stored'],
  [Promise.prototype, 'a Promise (await it first)'],
  [DataView.prototype, 'a DataView (store its bytes as a Uint8Array)'],
  [SharedArrayBuffer.prototype, 'a SharedArrayBuffer (copy it into a Uint8Array)'],
  [RegExp.prototype, 'a RegExp (store its source as a string)'],
  [Error.prototype, 'an Error (store its message as a string)'],
]);

/** Throws InvalidInputError unless `value` is data that reads back exactly (see the data model). */
export function assertPlainData(value: unknown, where: string): void {
  copyPlainData(value, where, Infinity);
}

/**
 * A copy of `value` that the store owns, checked against the data model as
 * it is built: every property and item of the caller's value is read exactly
 * once, so a getter or proxy that answers differently the second time, or a
 * caller that changes its objects while an append waits, cannot get anything
 * into the log that was not checked. Only the copy is encoded.
 *
 * `maxBytes` is a cheap lower bound on the encoded size (a string of n UTF-16
 * units encodes to at least n bytes, binary to its length): a value that
 * cannot fit is refused before anything is packed.
 */
export function copyPlainData(value: unknown, where: string, maxBytes: number, limit = maxBytes): unknown {
  startBudget(maxBytes, limit);
  try {
    return copy(value, 0);
  } catch (error) {
    throw refusalToError(error, where);
  }
}

/** Bytes still allowed in the value being copied (a lower bound of its encoded size is subtracted as it is walked). */
let budget = Infinity;
/** The limit `budget` counts down from, for the message. */
let budgetLimit = Infinity;

/** Starts a walk (a copy or an encoding) that may take `maxBytes` of `limit`. */
export function startBudget(maxBytes: number, limit: number): void {
  budget = maxBytes;
  budgetLimit = limit;
}

/** Runs `walk` (a walk of its own, started inside another: a getter that appends) and then gives the other its budget back. */
export function keepingBudget<T>(walk: () => T): T {
  const outer = budget;
  const outerLimit = budgetLimit;
  try {
    return walk();
  } finally {
    budget = outer;
    budgetLimit = outerLimit;
  }
}

/** How many more bytes copyPlainData's last call could have taken; chained by callers that share one limit. */
export function remainingBudget(): number {
  return budget;
}

function spend(bytes: number): void {
  budget -= bytes;
  if (budget < 0) throw new Refusal(`makes the event at least ${budgetLimit - budget} bytes encoded; the limit is ${budgetLimit} bytes (maxEventBytes)`);
}

export function refusalToError(error: unknown, where: string): InvalidInputError {
  if (error instanceof Refusal) {
    const at = formatPath(error.path.reverse());
    return new InvalidInputError(`${where}${at} ${error.reason}`);
  }
  if (error instanceof InvalidInputError) return error;
  // A getter or proxy trap that threw while the data was read.
  return new InvalidInputError(`${where} could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function formatPath(path: Array<string | number>): string {
  let text = '';
  for (const step of path) {
    text += typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return text;
}

/** A checked copy of `value`, found `depth` levels deep (0: the value itself). */
export function copy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      checkString(value);
      return value;
    case 'number':
      checkNumber(value);
      return value;
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return value;
    case 'object':
      if (value === null) return value;
      checkDepth(depth);
      return copyObject(value, depth + 1);
    case 'symbol':
      throw new Refusal('is a symbol, which cannot be stored');
    case 'function':
      throw new Refusal('is a function, which cannot be stored as data');
    default:
      throw new Refusal(`is a ${typeof value}, which cannot be stored`);
  }
}

/** The checks of a string, in this order: its size first (checking a huge string would flatten it), then its Unicode. */
export function checkString(value: string): void {
  spend(value.length);
  if (!value.isWellFormed()) throw new Refusal(`has ${loneSurrogate(value)}, which is not well-formed Unicode`);
}

export function checkNumber(value: number): void {
  // msgpack has no negative integer zero: -0 would read back as 0.
  if (value === 0 && 1 / value < 0) throw new Refusal('is -0 (negative zero), which would read back as 0; store 0');
}

/** An object at `depth` (0: the value itself) may hold more only while below the limit. */
export function checkDepth(depth: number): void {
  if (depth >= LIMITS.maxDataDepth) throw new Refusal(`nests deeper than ${LIMITS.maxDataDepth} levels (or refers to itself)`);
}

/** Item `i` of an array must be there. */
export function checkArrayItem(array: unknown[], i: number): void {
  if (!(i in array)) throw inside(new Refusal('is a hole in an array (it would read back as undefined); fill it'), i);
}

/** An array holds its items, nothing else: msgpack writes only the items. */
export function checkArrayProperties(array: unknown[], length: number): void {
  const keys = Object.keys(array);
  if (keys.length !== length || !onlyIndexes(array, keys, length) || hasSymbolKeys(array)) {
    refuseExtraProperties(array, 'an array', (key) => isIndex(key, length), () => refuseHiddenItem(keys, length));
  }
}

/** Items are the array's data: one that is not enumerable is stored all the same, unlike other non-enumerable properties. */
function refuseHiddenItem(keys: string[], length: number): never {
  const listed = new Set(keys);
  let item = 0;
  while (item < length && listed.has(String(item))) item++;
  throw new Refusal(`is an array whose item ${item} is not enumerable; make it an ordinary item (or copy the array: [...items])`);
}

/**
 * Whether `keys` (as many as the array's length) are all indexes. The count
 * alone is not enough: a non-enumerable index leaves room for an extra
 * property. An ordinary array lists its indexes first, ascending, then its
 * other keys, so its last key tells; a Proxy lists them in any order, so
 * each one is looked at.
 */
function onlyIndexes(array: unknown[], keys: string[], length: number): boolean {
  if (length === 0) return true;
  if (!types.isProxy(array)) return keys[length - 1] === String(length - 1);
  for (let k = 0; k < length; k++) if (!isIndex(keys[k], length)) return false;
  return true;
}

/** A plain object's keys, once checked that it has no symbol keys and no more than a map holds. */
export function objectKeys(value: object): string[] {
  if (Object.getOwnPropertySymbols(value).length > 0) throw new Refusal('has a symbol-keyed property, which cannot be stored');
  const keys = Object.keys(value);
  if (keys.length > MAX_MAP_KEYS) throw new Refusal(`has more than ${MAX_MAP_KEYS} keys, more than one msgpack map holds here; split it or use an array`);
  return types.isProxy(value) ? inPlainObjectOrder(keys) : keys;
}

/**
 * `keys` in the order a plain object holds them: array indexes ascending,
 * then the other keys as listed. An ordinary object lists them so already; a
 * Proxy lists them in any order, and its map is written as a plain copy of
 * it would be (as msgpack wrote the copy before the packer, byte for byte).
 */
function inPlainObjectOrder(keys: string[]): string[] {
  const indexes = keys.filter(isArrayIndex);
  if (indexes.length === 0) return keys;
  indexes.sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((key) => !isArrayIndex(key))];
}

/** A key an object keeps among its indexed elements (an integer below 2^32 - 1, written canonically). */
function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1 && String(n) === key;
}

/** A key of a plain object, counted towards the size. */
export function checkKey(key: string): void {
  if (key === '__proto__') throw inside(new Refusal('is a __proto__ key, which msgpack readers drop or rename; rename it'), key);
  if (!key.isWellFormed()) throw new Refusal(`has a key with ${loneSurrogate(key)}, which is not well-formed Unicode`);
  spend(key.length);
}

/** Copies an object nested `depth` levels deep (checked against the limit already). */
export function copyObject(value: object, depth: number): unknown {
  const proto: object | null = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    const length = array.length;
    const out: unknown[] = new Array(length);
    for (let i = 0; i < length; i++) {
      checkArrayItem(array, i);
      try {
        out[i] = copy(array[i], depth);
      } catch (error) {
        throw inside(error, i);
      }
    }
    checkArrayProperties(array, length);
    return out;
  }
  if (proto === Object.prototype || proto === null) {
    const keys = objectKeys(value);
    const out: Record<string, unknown> = {};
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      checkKey(key);
      try {
        out[key] = copy((value as Record<string, unknown>)[key], depth);
      } catch (error) {
        throw inside(error, key);
      }
    }
    return out;
  }
  if (proto === Date.prototype) {
    const time = Date.prototype.getTime.call(value);
    if (Object.keys(value).length !== 0 || hasSymbolKeys(value)) refuseExtraProperties(value, 'a Date', () => false);
    return new Date(time);
  }
  if (proto !== null && BINARY_PROTOTYPES.has(proto)) return copyBinary(value, proto);
  if (proto === Set.prototype) {
    const out = new Set<unknown>();
    let i = 0;
    for (const item of value as Set<unknown>) {
      try {
        out.add(copy(item, depth));
      } catch (error) {
        throw inside(error, i);
      }
      i++;
    }
    if (Object.keys(value).length !== 0 || hasSymbolKeys(value)) refuseExtraProperties(value, 'a Set', () => false);
    // Two items that were different objects stay two items; two equal primitives were already one.
    return out;
  }
  throw new Refusal(`is ${describeObject(value, proto)}`);
}

/** A copy of the bytes with the same type (ArrayBuffer, Buffer or typed array). */
function copyBinary(value: object, proto: object): unknown {
  if (proto === ArrayBuffer.prototype) {
    const bytes = value as ArrayBuffer;
    spend(bytes.byteLength);
    if (Object.keys(bytes).length !== 0 || hasSymbolKeys(bytes)) refuseExtraProperties(bytes, 'an ArrayBuffer', () => false);
    return bytes.slice(0);
  }
  const view = value as Uint8Array;
  spend(view.byteLength);
  // The constructor of one of BINARY_PROTOTYPES (taken from the prototype, not from the value, which could lie).
  const out = proto === Buffer.prototype ? Buffer.from(view) : new (proto.constructor as new (source: Uint8Array) => Uint8Array)(view);
  if (hasSymbolKeys(view)) throw new Refusal('has a symbol-keyed property, which cannot be stored');
  // Listing a typed array's own keys lists every index (0.5 s for a million);
  // util.inspect lists only the named ones. The copy has none, so the two
  // print alike exactly when the original has no named properties either.
  if (inspect(view, BRIEF) !== inspect(out, BRIEF)) {
    const name = Object.keys(view).find((key) => !isIndex(key, view.length));
    throw new Refusal(`has a property${name === undefined ? '' : ` "${name}"`} besides its bytes, which would be dropped; store the bytes and the property side by side in an object`);
  }
  return out;
}

const BRIEF = { maxArrayLength: 0, maxStringLength: 0, depth: 0, breakLength: Infinity, showHidden: false, customInspect: false };

function isIndex(key: string | symbol, length: number): boolean {
  if (typeof key !== 'string') return false;
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < length && String(n) === key;
}

function hasSymbolKeys(value: object): boolean {
  return Object.getOwnPropertySymbols(value).length > 0;
}

/** Enumerable properties besides the contents are dropped by msgpack (non-enumerable ones are not data, see README). */
function refuseExtraProperties(value: object, what: string, expected: (key: string | symbol) => boolean, noExtra?: () => never): never {
  const extra = [...Object.keys(value), ...Object.getOwnPropertySymbols(value)].find((key) => !expected(key));
  if (extra === undefined && noExtra) noExtra();
  const name = typeof extra === 'symbol' ? extra.toString() : `"${String(extra)}"`;
  throw new Refusal(`is ${what} with a property ${name} besides its contents, which would be dropped; store them side by side in an object`);
}

export function inside(error: unknown, step: string | number): unknown {
  if (error instanceof Refusal) error.path.push(step);
  return error;
}

function describeObject(value: object, proto: object | null): string {
  for (let p = proto; p !== null; p = Object.getPrototypeOf(p)) {
    const known = REFUSED_OBJECTS.get(p);
    if (known) return known;
  }
  if (Array.isArray(value)) return 'an instance of an Array subclass, which would read back as a plain array';
  const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  const what = typeof name === 'string' && name ? `a ${name} object` : 'an object with a custom prototype';
  return `${what}, which cannot be stored as data (only plain objects, arrays and the types of the data model)`;
}

/** "a lone surrogate (U+D800) at index 5": the first unpaired UTF-16 surrogate of a string that is not well-formed. */
export function loneSurrogate(text: string): string {
  const index = loneSurrogateIndex(text);
  const unit = text.charCodeAt(index).toString(16).toUpperCase();
  return `a lone surrogate (U+${unit}) at index ${index}`;
}

function loneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}
