import { InvalidInputError } from '../errors';
import { LIMITS } from './limits';

/**
 * The data model: what event data, metadata and snapshotted projection
 * states may hold. Everything accepted here reads back exactly as it went in
 * (see the table in README "Data model"); everything else is refused with
 * InvalidInputError naming where it is, before anything is written.
 *
 * This walk is on the append hot path: one pass, no allocation unless
 * something is wrong (the path to a refused value is built while the error
 * unwinds, not while walking).
 */

declare global {
  interface String {
    /** ES2024, in Node since 20: false when the string holds a lone UTF-16 surrogate. */
    isWellFormed(): boolean;
  }
}

/** Thrown inside the walk; carries the path to the refused value, innermost first. */
class Refusal {
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
  try {
    walk(value, 0);
  } catch (error) {
    throw refusalToError(error, where);
  }
}

function refusalToError(error: unknown, where: string): InvalidInputError {
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

function walk(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new Refusal(`has ${loneSurrogate(value)}, which is not well-formed Unicode`);
      return;
    case 'number':
      // msgpack has no negative integer zero: -0 would read back as 0.
      if (value === 0 && 1 / value < 0) throw new Refusal('is -0 (negative zero), which would read back as 0; store 0');
      return;
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return;
    case 'object':
      if (value === null) return;
      if (depth >= LIMITS.maxDataDepth) throw new Refusal(`nests deeper than ${LIMITS.maxDataDepth} levels (or refers to itself)`);
      walkObject(value, depth + 1);
      return;
    case 'symbol':
      throw new Refusal('is a symbol, which cannot be stored');
    case 'function':
      throw new Refusal('is a function, which cannot be stored as data');
    default:
      throw new Refusal(`is a ${typeof value}, which cannot be stored`);
  }
}

function walkObject(value: object, depth: number): void {
  const proto: object | null = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (item === undefined && !(i in array)) throw inside(new Refusal('is a hole in an array (it would read back as undefined); fill it'), i);
      try {
        walk(item, depth);
      } catch (error) {
        throw inside(error, i);
      }
    }
    return;
  }
  if (proto === Object.prototype || proto === null) {
    if (Object.getOwnPropertySymbols(value).length > 0) throw new Refusal('has a symbol-keyed property, which cannot be stored');
    // for-in, as msgpackr's own writer: fast over V8's enum cache. (Keys inherited from a
    // polluted Object.prototype are checked too, though msgpackr skips them: harmless.)
    let keys = 0;
    for (const key in value) {
      if (++keys > MAX_MAP_KEYS) throw new Refusal(`has more than ${MAX_MAP_KEYS} keys, more than one msgpack map holds here; split it or use an array`);
      if (key === '__proto__') throw inside(new Refusal('is a __proto__ key, which msgpack readers drop or rename; rename it'), key);
      if (!key.isWellFormed()) throw new Refusal(`has a key with ${loneSurrogate(key)}, which is not well-formed Unicode`);
      try {
        walk((value as Record<string, unknown>)[key], depth);
      } catch (error) {
        throw inside(error, key);
      }
    }
    return;
  }
  if (proto === Date.prototype) return;
  if (proto !== null && BINARY_PROTOTYPES.has(proto)) return;
  if (proto === Set.prototype) {
    let i = 0;
    for (const item of value as Set<unknown>) {
      try {
        walk(item, depth);
      } catch (error) {
        throw inside(error, i);
      }
      i++;
    }
    return;
  }
  throw new Refusal(`is ${describeObject(value, proto)}`);
}

function inside(error: unknown, step: string | number): unknown {
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
