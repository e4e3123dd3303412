import { InvalidInputError, type ExpectedVersion } from '../errors';
import { LIMITS } from './limits';

export interface EventInput<D = unknown, M = unknown> {
  type: string;
  data?: D;
  metadata?: M;
  /** Optional caller-chosen id; a random UUID otherwise. */
  id?: string;
}

export function validateName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(`${what} must be a non-empty string, got ${describe(value)}`);
  }
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
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidInputError(`events must be a non-empty array, got ${describe(events)}`);
  }
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as EventInput;
    if (typeof event !== 'object' || event === null) throw new InvalidInputError(`event ${i} must be an object, got ${describe(event)}`);
    validateName(event.type, `event ${i} type`);
    if (event.id !== undefined) validateName(event.id, `event ${i} id`);
    checkPlainData(event.data, `event ${i} data`, 0);
    checkPlainData(event.metadata, `event ${i} metadata`, 0);
  }
  return events as EventInput[];
}

/** Throws InvalidInputError unless `value` survives msgpack unchanged (plain objects, arrays, scalars, Dates, bytes). */
export function assertPlainData(value: unknown, where: string): void {
  checkPlainData(value, where, 0);
}

/**
 * msgpack would silently turn functions into nil and Maps into objects, so
 * anything that does not round-trip is refused here instead of being lost.
 */
function checkPlainData(value: unknown, where: string, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return;
    case 'number':
      return;
    case 'object': {
      if (value === null || value instanceof Date || value instanceof Uint8Array) return;
      if (depth >= LIMITS.maxDataDepth) {
        throw new InvalidInputError(`${where} nests deeper than ${LIMITS.maxDataDepth} levels (or refers to itself)`);
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkPlainData(value[i], where, depth + 1);
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidInputError(`${where} contains a ${proto?.constructor?.name ?? 'non-plain'} object, which cannot be stored as event data`);
      }
      for (const key in value) checkPlainData((value as Record<string, unknown>)[key], where, depth + 1);
      return;
    }
    default:
      throw new InvalidInputError(`${where} contains a ${typeof value}, which cannot be stored as event data`);
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
