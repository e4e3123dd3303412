import { InvalidInputError, type ExpectedVersion } from '../errors';
import { LIMITS } from './limits';
import { copyPlainData, keepingBudget, loneSurrogate, remainingBudget } from './plain-data';
import { abandonPayloads, beginPayloads, endPayloads, insertPayloadByte, packPlainData, payloadOffset, skipPayloadBytes } from './pack-plain-data';
import type { PackedPayload } from '../log/payload-codec';
import { releaseArenaBytes } from '../log/arena';

export { assertPlainData } from './plain-data';

export interface EventInput<D = unknown, M = unknown> extends Partial<PackedPayload> {
  type: string;
  data?: D;
  metadata?: M;
  /** Optional caller-chosen id; a random UUID otherwise. */
  id?: string;
}

/** Stream names, event types and ids: non-empty, well-formed Unicode, at most LIMITS.maxNameBytes of UTF-8. */
export function validateName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(`${what} must be a non-empty string, got ${formatValueForMessage(value)}`);
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
    `expectedVersion must be 'any', 'no_stream', 'stream_exists' or a whole number >= 0, got ${formatValueForMessage(value)}`,
  );
}

const EVENT_KEYS = ['type', 'data', 'metadata', 'id'];

/** msgpack's header of an array of two items: a payload `[data, metadata]` starts with it. */
const ARRAY_OF_TWO = 0x92;

/** Bytes a log wants left free before an event's payload (see EventLog.recordRoom), from the event's type and id. */
export type RoomBefore = (type: string, id: string | undefined) => number;

const NO_ROOM: RoomBefore = () => 0;

/**
 * The events of one append, checked and taken into objects the store owns:
 * each event's type, id, data and metadata are read exactly once. Data and
 * metadata are encoded as they are checked (pack-plain-data.ts): the events
 * carry their payloads as bytes (`packed`, see PackedPayload), all of the
 * append's in one buffer, and no `data` or `metadata`. Only those are
 * counted, framed and stored, so a caller that changes its array or objects
 * afterwards (while the append waits for room, or from a getter) changes
 * nothing in the log. `roomBefore`: bytes left free before each payload,
 * right after the previous one (`recordRoom` of the log).
 */
export function validateEvents(events: unknown, maxEventBytes = Infinity, roomBefore: RoomBefore = NO_ROOM): EventInput[] {
  // A getter of an event being checked that appends itself: that inner append takes checked copies.
  if (!beginPayloads()) return copyEvents(events, maxEventBytes);
  try {
    const copies = checkEvents(events, maxEventBytes, (event, i, max, type, id) => packPayload(event, i, max, type, id, roomBefore(type, id)));
    const packed = endPayloads();
    for (let i = 0; i < copies.length; i++) copies[i].packed = packed;
    return copies;
  } catch (error) {
    abandonPayloads();
    throw error;
  }
}

/**
 * An append of these events was refused or answered without being written:
 * nothing reads their payloads again, so their bytes go back to the arena
 * (src/log/arena.ts). Call it once per append, and only then.
 */
export function givePayloadsBack(events: readonly EventInput[]): void {
  const packed = events[0]?.packed;
  if (packed) releaseArenaBytes(packed);
}

/** The store's event: its payload written with the append's others, after `room` free bytes (`packed` is set once they are all written). */
function packPayload(event: EventInput, i: number, maxEventBytes: number, type: string, id: string | undefined, room: number): EventInput {
  const names = type.length + (id?.length ?? 0);
  skipPayloadBytes(room);
  const payloadStart = payloadOffset();
  // The names count towards the event's size too: a lower bound of what the record will take.
  packPlainData(event.data, i, 'data', maxEventBytes - names, maxEventBytes);
  let dataStart = payloadStart;
  let dataEnd = payloadOffset();
  const metadata = event.metadata;
  if (metadata !== undefined && metadata !== null) {
    // The payload becomes `[data, metadata]`: the array's header goes before the data.
    insertPayloadByte(payloadStart, ARRAY_OF_TWO);
    dataStart++;
    dataEnd++;
    packPlainData(metadata, i, 'metadata', remainingBudget(), maxEventBytes);
  }
  const payloadEnd = payloadOffset();
  return id === undefined
    ? { type, packed: NOT_YET, room, payloadStart, dataStart, dataEnd, payloadEnd }
    : { type, id, packed: NOT_YET, room, payloadStart, dataStart, dataEnd, payloadEnd };
}

/** `packed` of an event whose append's payloads are still being written (one shape for every event). */
const NOT_YET = Buffer.alloc(0);

/** The events as checked copies (data and metadata as objects, see copyPlainData): the budget of an outer append's walk is kept. */
function copyEvents(events: unknown, maxEventBytes: number): EventInput[] {
  return keepingBudget(() =>
    checkEvents(events, maxEventBytes, (event, i, max, type, id) => {
      // The names count towards the event's size too: a lower bound of what the record will take.
      const names = type.length + (id?.length ?? 0);
      const data = copyPlainData(event.data, `event ${i} data`, max - names, max);
      const metadata = copyPlainData(event.metadata, `event ${i} metadata`, remainingBudget(), max);
      return id === undefined ? { type, data, metadata } : { type, data, metadata, id };
    }),
  );
}

/** The checks of every event, in order; `take` reads (once) and keeps an event's data and metadata. */
function checkEvents(
  events: unknown,
  maxEventBytes: number,
  take: (event: EventInput, i: number, maxEventBytes: number, type: string, id: string | undefined) => EventInput,
): EventInput[] {
  try {
    if (!Array.isArray(events)) throw new InvalidInputError(`events must be a non-empty array, got ${formatValueForMessage(events)}`);
    const length = events.length;
    if (length === 0) throw new InvalidInputError(`events must be a non-empty array, got ${formatValueForMessage(events)}`);
    const copies: EventInput[] = new Array(length);
    for (let i = 0; i < length; i++) {
      const event = events[i] as EventInput;
      if (typeof event !== 'object' || event === null) throw new InvalidInputError(`event ${i} must be an object, got ${formatValueForMessage(event)}`);
      refuseUnknownKeys(event, i);
      const type = validateName(event.type, `event ${i} type`);
      const id = event.id;
      if (id !== undefined) validateName(id, `event ${i} id`);
      copies[i] = take(event, i, maxEventBytes, type, id);
    }
    return copies;
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    // A getter or proxy trap on an event object threw.
    throw new InvalidInputError(`events could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

/** A misspelt key (`metdata`) would otherwise be dropped without a word. */
function refuseUnknownKeys(event: object, i: number): void {
  const unknown = firstUnknownKey(event);
  if (unknown === undefined) return;
  const near = EVENT_KEYS.find((key) => closeTo(unknown, key));
  throw new InvalidInputError(
    `event ${i} has an unknown key ${JSON.stringify(unknown)}${near ? ` (did you mean ${near}?)` : ''}; an event has only ${EVENT_KEYS.join(', ')}`,
  );
}

/**
 * The first own enumerable key that is not an event's, in Object.keys order:
 * for-in lists own keys first in that order, then inherited ones (skipped),
 * and allocates no array per event as Object.keys does (batched appends).
 */
function firstUnknownKey(event: object): string | undefined {
  for (const key in event) {
    if (key === 'type' || key === 'data' || key === 'metadata' || key === 'id') continue;
    if (Object.prototype.hasOwnProperty.call(event, key)) return key;
  }
  return undefined;
}

/** At most two single-character edits apart: enough for the typos people make in four short words. */
function closeTo(a: string, b: string): boolean {
  const lower = a.toLowerCase();
  if (Math.abs(lower.length - b.length) > 2) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= lower.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (lower[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length] <= 2;
}

/** How an error message shows a value it was given: a short quoted string, `an array of 3`, `number NaN`… never the whole value. */
export function formatValueForMessage(value: unknown): string {
  try {
    return formatValue(value);
  } catch {
    return 'an object'; // a revoked proxy: even Array.isArray throws
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
