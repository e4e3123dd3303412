import { InvalidInputError, type ExpectedVersion } from '../errors';
import { LIMITS } from './limits';
import { assertPlainData, loneSurrogate } from './plain-data';

export { assertPlainData } from './plain-data';

export interface EventInput<D = unknown, M = unknown> {
  type: string;
  data?: D;
  metadata?: M;
  /** Optional caller-chosen id; a random UUID otherwise. */
  id?: string;
}

/** Stream names, event types and ids: non-empty, well-formed Unicode, at most LIMITS.maxNameBytes of UTF-8. */
export function validateName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(`${what} must be a non-empty string, got ${describe(value)}`);
  }
  // A lone surrogate would be written as U+FFFD: two different names would become one on disk.
  if (!value.isWellFormed()) throw new InvalidInputError(`${what} has ${loneSurrogate(value)}, which is not well-formed Unicode`);
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short names skip the byte count.
  if (value.length * 3 > LIMITS.maxNameBytes && Buffer.byteLength(value) > LIMITS.maxNameBytes) {
    throw new InvalidInputError(`${what} is ${Buffer.byteLength(value)} bytes long; the limit is ${LIMITS.maxNameBytes} bytes`);
  }
  return value;
}

export function validateExpectedVersion(value: unknown): ExpectedVersion {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new InvalidInputError(
    `expectedVersion must be 'any', 'no_stream', 'stream_exists' or a whole number >= 0, got ${describe(value)}`,
  );
}

export function validateEvents(events: unknown): EventInput[] {
  try {
    if (!Array.isArray(events) || events.length === 0) {
      throw new InvalidInputError(`events must be a non-empty array, got ${describe(events)}`);
    }
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as EventInput;
      if (typeof event !== 'object' || event === null) throw new InvalidInputError(`event ${i} must be an object, got ${describe(event)}`);
      validateName(event.type, `event ${i} type`);
      if (event.id !== undefined) validateName(event.id, `event ${i} id`);
      assertPlainData(event.data, `event ${i} data`);
      assertPlainData(event.metadata, `event ${i} metadata`);
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    // A getter or proxy trap on an event object threw.
    throw new InvalidInputError(`events could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  return events as EventInput[];
}

export function describe(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return 'an object'; // a revoked proxy: even Array.isArray throws
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
