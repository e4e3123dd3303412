import * as nodePath from 'node:path';
import { InvalidInputError, type CorruptionError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { LIMITS } from './limits';
import { MAX_BODY_BYTES, MAX_SEGMENT_SIZE } from '../log/record';
import type { Projection } from '../api';
import { formatValueForMessage, validateExpectedVersion } from './validate-input';

/**
 * Option objects of the public API, checked before anything happens: an
 * unknown key (a typo such as `expectVersion`) is refused with the list of
 * allowed keys, a value of the wrong type or range with what is allowed, and
 * `null` where an options object belongs is an error (only `undefined` means
 * "the defaults"). Each option is read once, so a getter cannot hand the
 * store a different value later.
 */

/** How one option is checked: `expects` completes "… must be …". */
interface Rule {
  expects: string;
  ok(value: unknown): boolean;
}

type Spec = Record<string, Rule>;

const oneOf = (...values: string[]): Rule => ({
  expects: values.map((v) => `'${v}'`).join(' or '),
  ok: (value) => values.includes(value as string),
});

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER): Rule => ({
  expects: max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
  ok: (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max,
});

/** A count that may be unbounded. */
const countOrInfinity: Rule = {
  expects: 'a whole number >= 0 (or Infinity)',
  ok: (value) => value === Infinity || wholeNumber(0).ok(value),
};

const fn: Rule = { expects: 'a function', ok: (value) => typeof value === 'function' };
const anything: Rule = { expects: 'any value', ok: () => true };

/** Timers hold at most 2^31 - 1 ms; a longer delay would silently become 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

const FILE_SYSTEM_METHODS = ['mkdirp', 'readdir', 'exists', 'open', 'create', 'readFile', 'rename', 'unlink', 'syncDir', 'tryLock', 'isLocked'] as const;
const flag: Rule = { expects: 'true or false', ok: (value) => typeof value === 'boolean' };

const fileSystem: Rule = {
  expects: `a file system object (NodeFileSystem, SimulatedDisk, or one with ${FILE_SYSTEM_METHODS.join(', ')})`,
  ok: (value) => typeof value === 'object' && value !== null && FILE_SYSTEM_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
};

const objectOf: Rule = {
  expects: 'an object of projections by name',
  ok: (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
};

export const STORE_OPTIONS: Spec = {
  durability: oneOf('fsync', 'flush'),
  // Offsets inside a segment are 32-bit (src/log/FORMAT.md).
  segmentSize: wholeNumber(1, MAX_SEGMENT_SIZE),
  maxBatchEvents: wholeNumber(1),
  maxBatchBytes: wholeNumber(1),
  maxBatchDelayMs: {
    expects: `a number of milliseconds from 0 to ${MAX_TIMER_MS}`,
    ok: (value) => typeof value === 'number' && value >= 0 && value <= MAX_TIMER_MS,
  },
  maxQueueEvents: wholeNumber(1),
  maxEventBytes: wholeNumber(1, MAX_BODY_BYTES),
  repair: oneOf('none', 'truncate'),
  fs: fileSystem,
  projections: objectOf,
  snapshotEvery: wholeNumber(0),
  snapshotEveryBytes: wholeNumber(0),
  keepSnapshots: wholeNumber(1),
  readOnly: flag,
  verifyOnOpen: oneOf('background', 'full'),
  onCorruption: fn,
};

const PROJECTION: Spec = {
  initialState: { expects: 'an object or an array', ok: (value) => typeof value === 'object' && value !== null },
  version: wholeNumber(0),
  evolve: fn,
};

export const READ_STREAM_OPTIONS: Spec = {
  from: wholeNumber(0),
  direction: oneOf('forward', 'backward'),
  limit: countOrInfinity,
};

export const READ_ALL_OPTIONS: Spec = {
  from: wholeNumber(0),
  limit: countOrInfinity,
};

export const SCAVENGE_OPTIONS: Spec = {
  onProgress: fn,
  erase: flag,
};

export const DELETE_OPTIONS: Spec = {
  expectedVersion: anything,
  hard: flag,
};

export const FOLLOW_OPTIONS: Spec = {
  from: wholeNumber(0),
  pollMs: {
    expects: `a number of milliseconds from 1 to ${MAX_TIMER_MS}`,
    ok: (value) => typeof value === 'number' && value >= 1 && value <= MAX_TIMER_MS,
  },
  signal: { expects: 'an AbortSignal', ok: (value) => value instanceof AbortSignal },
};

export const SUBSCRIBE_OPTIONS: Spec = {
  from: wholeNumber(-1),
  checkpointEvery: wholeNumber(1),
  onDamagedCheckpoint: oneOf('fail', 'restart'),
};

export const AGGREGATE_OPTIONS: Spec = {
  initialState: anything,
  evolve: fn,
  to: countOrInfinity,
};

/**
 * Checks an options argument against `spec` and returns a copy holding only
 * the keys that were given (with a value other than undefined).
 */
export function readOptions<T extends object>(options: unknown, what: string, spec: Spec, required: string[] = []): Partial<T> {
  if (options === undefined && required.length === 0) return {};
  const copy: Record<string, unknown> = {};
  try {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidInputError(`${what} must be an object${required.length ? ` with ${required.join(' and ')}` : ' (or left out)'}, got ${formatValueForMessage(options)}`);
    }
    refuseInheritedKeys(options, what);
    for (const key of Object.keys(options)) {
      const rule = Object.prototype.hasOwnProperty.call(spec, key) ? spec[key] : undefined;
      if (!rule) throw new InvalidInputError(`${what} has an unknown option ${JSON.stringify(key)}${suggestion(key, spec)}; allowed: ${Object.keys(spec).join(', ')}`);
      const value = (options as Record<string, unknown>)[key];
      if (value === undefined) continue;
      if (!rule.ok(value)) throw new InvalidInputError(`${what}: ${key} must be ${rule.expects}, got ${formatValueForMessage(value)}`);
      copy[key] = value;
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    // A getter or proxy trap on the options object threw.
    throw new InvalidInputError(`${what} could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  for (const key of required) {
    if (!(key in copy)) throw new InvalidInputError(`${what} needs ${key} (${spec[key].expects})`);
  }
  return copy as Partial<T>;
}

/** The options of `append`, checked on every append: a quick pass when they are fine. */
export function readAppendOptions(options: unknown): { expectedVersion: ReturnType<typeof validateExpectedVersion> } {
  if (options === undefined) return { expectedVersion: 'any' };
  if (typeof options === 'object' && options !== null) {
    try {
      if (!Array.isArray(options)) {
        // Own keys only: anything else (an inherited key too) goes to readOptions, which words the refusal.
        let known = true;
        for (const key in options) if (key !== 'expectedVersion' || !Object.prototype.hasOwnProperty.call(options, key)) known = false;
        if (known) {
          const own = Object.prototype.hasOwnProperty.call(options, 'expectedVersion');
          return { expectedVersion: validateExpectedVersion(own ? (options as { expectedVersion?: unknown }).expectedVersion : undefined) };
        }
      }
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      // A proxy that cannot be read: readOptions words the refusal.
    }
  }
  const checked = readOptions<{ expectedVersion: unknown }>(options, 'append options', { expectedVersion: anything });
  return { expectedVersion: validateExpectedVersion(checked.expectedVersion) };
}

/**
 * The projections of `open`: each needs initialState, version and evolve (own
 * or inherited, so a class instance works) and no other own key. The
 * projection objects themselves are kept, so `evolve` runs with its `this`.
 */
export function readProjections(projections: unknown): Record<string, Projection> {
  if (projections === undefined) return {};
  const checked: Record<string, Projection> = {};
  refuseInheritedKeys(projections as object, 'open options: projections');
  for (const name of Object.keys(projections as object)) {
    const what = `projection ${JSON.stringify(name)}`;
    if (name.length === 0 || !name.isWellFormed()) throw new InvalidInputError(`projection names must be non-empty, well-formed Unicode, got ${formatValueForMessage(name)}`);
    // As a key of a plain object it would set the prototype instead (and snapshots could not name it).
    if (name === '__proto__') throw new InvalidInputError('a projection cannot be named "__proto__"; choose another name');
    const projection = (projections as Record<string, unknown>)[name];
    if (typeof projection !== 'object' || projection === null) throw new InvalidInputError(`${what} must be an object with initialState, version and evolve, got ${formatValueForMessage(projection)}`);
    for (const key of Object.keys(projection)) {
      if (!Object.prototype.hasOwnProperty.call(PROJECTION, key)) {
        throw new InvalidInputError(`${what} has an unknown key ${JSON.stringify(key)}${suggestion(key, PROJECTION)}; allowed: ${Object.keys(PROJECTION).join(', ')}`);
      }
    }
    for (const [key, rule] of Object.entries(PROJECTION)) {
      const value = (projection as Record<string, unknown>)[key];
      if (!rule.ok(value)) throw new InvalidInputError(`${what}: ${key} must be ${rule.expects}, got ${formatValueForMessage(value)}`);
    }
    // Its state need not be plain data until it is snapshotted: checkpoint() checks it then.
    checked[name] = projection as Projection;
  }
  return checked;
}

/**
 * Options are read from own properties only: an inherited one (a class with
 * getters, `Object.create(defaults)`) would be ignored without a word, so an
 * options object must be a plain object with nothing enumerable inherited.
 */
function refuseInheritedKeys(options: object, what: string): void {
  const proto: unknown = Object.getPrototypeOf(options);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidInputError(
      `${what} must be a plain object (its own properties are read, inherited ones would be ignored), got ${describePrototype(proto)}; spread it: { ...options }`,
    );
  }
  for (const key in options) {
    if (!Object.prototype.hasOwnProperty.call(options, key)) {
      throw new InvalidInputError(
        `${what}: ${JSON.stringify(key)} is inherited from the object's prototype; options are read from the object's own properties only (spread them: { ...defaults, ...overrides })`,
      );
    }
  }
}

function describePrototype(proto: unknown): string {
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name && Object.hasOwn(proto as object, 'constructor') ? `a ${name} object` : 'an object with a custom prototype';
}

/** `did you mean "expectedVersion"?` for a key one or two edits away from an allowed one. */
function suggestion(key: string, spec: Spec): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const allowed of Object.keys(spec)) {
    const d = editDistance(key.toLowerCase(), allowed.toLowerCase());
    if (d < bestDistance) {
      best = allowed;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

export const IN_MEMORY_OPTIONS: Spec = Object.fromEntries(Object.entries(STORE_OPTIONS).filter(([key]) => key !== 'fs' && key !== 'readOnly'));

/** The settings a store runs with: every option resolved to its value or default. */
export interface StoreSettings {
  durability: 'fsync' | 'flush';
  segmentSize: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  maxBatchDelayMs: number;
  maxQueueEvents: number;
  maxEventBytes: number;
  snapshotEvery: number;
  snapshotEveryBytes: number;
  keepSnapshots: number;
}

export interface OpenArguments {
  directory: string;
  fs: FileSystem;
  repair: 'none' | 'truncate';
  projections: Record<string, Projection>;
  settings: StoreSettings;
  readOnly: boolean;
  verifyOnOpen: 'background' | 'full';
  onCorruption: ((error: CorruptionError) => void) | undefined;
}

/** Checks `open`'s arguments (no I/O) and resolves the defaults. */
export function readStoreOptions(dir: unknown, options: unknown): OpenArguments {
  try {
    return readStoreOptionsOrThrow(dir, options);
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    // A getter or proxy trap in the options (or a projection) threw.
    throw new InvalidInputError(`open options could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

function readStoreOptionsOrThrow(dir: unknown, options: unknown): OpenArguments {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidInputError(`the store directory must be a non-empty path, got ${formatValueForMessage(dir)}`);
  }
  if (!dir.isWellFormed() || dir.includes('\0')) {
    throw new InvalidInputError(`the store directory ${formatValueForMessage(dir)} is not a usable path (lone surrogate or NUL character)`);
  }
  const given = readOptions<StoreOptionsShape>(options, 'open options', STORE_OPTIONS);
  const projections = readProjections(given.projections);
  const settings: StoreSettings = {
    durability: given.durability ?? 'fsync',
    segmentSize: given.segmentSize ?? 64 * 1024 * 1024,
    maxBatchEvents: given.maxBatchEvents ?? 100_000,
    maxBatchBytes: given.maxBatchBytes ?? 16 * 1024 * 1024,
    maxBatchDelayMs: given.maxBatchDelayMs ?? 0,
    maxQueueEvents: given.maxQueueEvents ?? 500_000,
    maxEventBytes: given.maxEventBytes ?? LIMITS.defaultMaxEventBytes,
    snapshotEvery: given.snapshotEvery ?? 1_000_000,
    snapshotEveryBytes: given.snapshotEveryBytes ?? 0,
    keepSnapshots: given.keepSnapshots ?? 2,
  };
  return {
    // A path on a simulated disk is its own; a real one is made absolute once.
    // NodeFileSystem paths too: a relative one would follow a later process.chdir() into another directory.
    directory: given.fs && !(given.fs instanceof NodeFileSystem) ? dir : nodePath.resolve(dir),
    fs: given.fs ?? new NodeFileSystem(),
    repair: given.repair ?? 'none',
    projections,
    settings,
    readOnly: given.readOnly ?? false,
    verifyOnOpen: given.verifyOnOpen ?? 'background',
    onCorruption: given.onCorruption,
  };
}

type StoreOptionsShape = Partial<StoreSettings> & {
  repair: 'none' | 'truncate';
  fs: FileSystem;
  projections: unknown;
  readOnly: boolean;
  verifyOnOpen: 'background' | 'full';
  onCorruption: (error: CorruptionError) => void;
};
