import { Arena, type ArenaSpan } from '../log/arena';
import { payloadCodec } from '../log/payload-codec';
import {
  checkArrayItem,
  checkArrayProperties,
  checkDepth,
  checkKey,
  checkNumber,
  checkString,
  copy,
  copyObject,
  inside,
  objectKeys,
  refusalToError,
  startBudget,
} from './plain-data';

// Event data and metadata checked against the data model and encoded as
// msgpack in the same walk (the append hot path): every property of the
// caller's value is read exactly once, as by copyPlainData, but instead of a
// copy that msgpackr then walks again, the checked values go straight into
// bytes. The bytes are the ones msgpackr writes with the payload codec's
// settings (FORMAT.md, "Payload"): plain objects as a map with a 16-bit size,
// numbers as the smallest integer form that holds a 32-bit integer and
// float64 otherwise, strings with the smallest header, `undefined` as
// `d4 00 00`. What has a msgpack extension (Date, binary, Set, bigint) is
// copied by copyPlainData's walk and encoded by msgpackr itself.
//
// The bytes land in an arena of their own (views, no allocation per event)
// and are copied once more, by the framing, into the record.

const arena = new Arena();

/** The span being written (one append's payloads), its bytes, and the first free byte there. */
let span: ArenaSpan = arena.openSpan();
let out: Buffer = span.bytes;
let view = new DataView(out.buffer, out.byteOffset, out.byteLength);
let at = 0;
/** Set while an append's payloads are being written: a getter that appends meanwhile must not write into them. */
let busy = false;

/** Makes room for `bytes` more bytes at `at`. */
function room(bytes: number): void {
  if (at + bytes <= out.length) return;
  const written = at - span.base;
  arena.ensureRoom(span, written + bytes);
  out = span.bytes;
  view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  at = span.base + written;
}

/**
 * Starts writing one append's payloads, or returns false when one is being
 * written already (a getter of an event in the middle of being checked
 * appends): that inner append then takes copies instead (copyPlainData).
 */
export function beginPayloads(): boolean {
  if (busy) return false;
  busy = true;
  span = arena.openSpan();
  if (span.bytes !== out) {
    out = span.bytes;
    view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  at = span.base;
  return true;
}

/** Where the next byte goes, counted from the start of the append's payloads. */
export function payloadOffset(): number {
  return at - span.base;
}

/** Leaves `bytes` bytes at payloadOffset() for the log to write later (the start of a record, see EventLog.recordRoom). */
export function skipPayloadBytes(bytes: number): void {
  room(bytes);
  at += bytes;
}

/** Inserts `byte` at `offset`, moving what was written from there on by one (the array header of `[data, metadata]`). */
export function insertPayloadByte(offset: number, byte: number): void {
  room(1);
  const from = span.base + offset;
  out.copyWithin(from + 1, from, at);
  out[from] = byte;
  at++;
}

/** The append's payloads, all of them (offsets as payloadOffset gave them). */
export function endPayloads(): Buffer {
  busy = false;
  return arena.closeSpan(span, at - span.base);
}

/** Gives up the append's payloads (refused input): nothing of them is kept. */
export function abandonPayloads(): void {
  busy = false;
}

/**
 * Checks `value`, the data or metadata of event `event` of an append,
 * against the data model (InvalidInputError naming where, exactly as
 * copyPlainData) and writes its msgpack encoding at payloadOffset();
 * `undefined` as nil, as the log stores absent data. `maxBytes`: as
 * copyPlainData (remainingBudget() then tells what is left).
 */
export function packPlainData(value: unknown, event: number, part: 'data' | 'metadata', maxBytes: number, limit: number): void {
  startBudget(maxBytes, limit);
  try {
    if (value === undefined) {
      room(1);
      out[at++] = 0xc0;
    } else {
      pack(value, 0);
    }
  } catch (error) {
    throw refusalToError(error, `event ${event} ${part}`);
  }
}

function pack(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      checkString(value);
      writeString(value);
      return;
    case 'number':
      checkNumber(value);
      writeNumber(value);
      return;
    case 'boolean':
      room(1);
      out[at++] = value ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      room(3);
      out[at++] = 0xd4;
      out[at++] = 0;
      out[at++] = 0;
      return;
    case 'object':
      room(1);
      if (value === null) {
        out[at++] = 0xc0;
        return;
      }
      checkDepth(depth);
      packObject(value, depth + 1);
      return;
    default:
      // bigint (a msgpack extension beyond 64 bits), or refused: symbol, function.
      writeEncoded(copy(value, depth));
  }
}

function packObject(value: object, depth: number): void {
  const proto: object | null = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    const length = array.length;
    room(5);
    if (length < 0x10) {
      out[at++] = 0x90 | length;
    } else if (length < 0x10000) {
      out[at++] = 0xdc;
      out[at++] = length >> 8;
      out[at++] = length & 0xff;
    } else {
      out[at++] = 0xdd;
      view.setUint32(at, length);
      at += 4;
    }
    for (let i = 0; i < length; i++) {
      checkArrayItem(array, i);
      try {
        pack(array[i], depth);
      } catch (error) {
        throw inside(error, i);
      }
    }
    checkArrayProperties(array, length);
    return;
  }
  if (proto === Object.prototype || proto === null) {
    const keys = objectKeys(value);
    const size = keys.length;
    room(3);
    out[at++] = 0xde; // map 16, as msgpackr writes every plain object
    out[at++] = size >> 8;
    out[at++] = size & 0xff;
    for (let k = 0; k < size; k++) {
      const key = keys[k];
      checkKey(key);
      writeString(key);
      try {
        pack((value as Record<string, unknown>)[key], depth);
      } catch (error) {
        throw inside(error, key);
      }
    }
    return;
  }
  // Date, binary, Set (copied, then encoded by msgpackr) or refused with its reason.
  writeEncoded(copyObject(value, depth));
}

function writeEncoded(copied: unknown): void {
  const encoded = payloadCodec.pack(copied);
  room(encoded.length);
  encoded.copy(out, at);
  at += encoded.length;
}

function writeNumber(value: number): void {
  room(9);
  if (value >>> 0 === value) {
    if (value < 0x80) {
      out[at++] = value;
    } else if (value < 0x100) {
      out[at++] = 0xcc;
      out[at++] = value;
    } else if (value < 0x10000) {
      out[at++] = 0xcd;
      out[at++] = value >> 8;
      out[at++] = value & 0xff;
    } else {
      out[at++] = 0xce;
      view.setUint32(at, value);
      at += 4;
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) {
      out[at++] = 0x100 + value;
    } else if (value >= -0x80) {
      out[at++] = 0xd0;
      out[at++] = value + 0x100;
    } else if (value >= -0x8000) {
      out[at++] = 0xd1;
      view.setInt16(at, value);
      at += 2;
    } else {
      out[at++] = 0xd2;
      view.setInt32(at, value);
      at += 4;
    }
  } else {
    out[at++] = 0xcb;
    view.setFloat64(at, value);
    at += 8;
  }
}

/** A well-formed string (checkString or checkKey said so) as msgpack str: UTF-8 behind the smallest header that holds its length. */
function writeString(value: string): void {
  const length = value.length;
  // Short strings: at most 3 bytes a UTF-16 unit; long ones are measured (a huge string must not ask for three times its size).
  room(5 + (length < 0x40 ? length * 3 : Buffer.byteLength(value, 'utf8')));
  // The header's size is guessed from the UTF-16 length, the bytes written after it, and moved if the guess was short.
  const guess = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const from = at + guess;
  let bytes: number;
  if (length < 0x40) {
    let p = from;
    for (let i = 0; i < length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        out[p++] = c;
      } else if (c < 0x800) {
        out[p++] = (c >> 6) | 0xc0;
        out[p++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xfc00) === 0xd800) {
        // A high surrogate: in a well-formed string, a low one follows.
        c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
        out[p++] = (c >> 18) | 0xf0;
        out[p++] = ((c >> 12) & 0x3f) | 0x80;
        out[p++] = ((c >> 6) & 0x3f) | 0x80;
        out[p++] = (c & 0x3f) | 0x80;
      } else {
        out[p++] = (c >> 12) | 0xe0;
        out[p++] = ((c >> 6) & 0x3f) | 0x80;
        out[p++] = (c & 0x3f) | 0x80;
      }
    }
    bytes = p - from;
  } else {
    bytes = out.write(value, from, 'utf8');
  }
  if (bytes < 0x20) {
    out[at++] = 0xa0 | bytes;
  } else if (bytes < 0x100) {
    if (guess < 2) out.copyWithin(at + 2, at + 1, at + 1 + bytes);
    out[at++] = 0xd9;
    out[at++] = bytes;
  } else if (bytes < 0x10000) {
    if (guess < 3) out.copyWithin(at + 3, at + guess, at + guess + bytes);
    out[at++] = 0xda;
    out[at++] = bytes >> 8;
    out[at++] = bytes & 0xff;
  } else {
    if (guess < 5) out.copyWithin(at + 5, at + guess, at + guess + bytes);
    out[at++] = 0xdb;
    view.setUint32(at, bytes);
    at += 4;
  }
  at += bytes;
}
