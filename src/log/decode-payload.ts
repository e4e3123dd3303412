import { payloadCodec } from './payload-codec';

// Decoding a record's payload (the replay hot path). Most payloads hold only
// maps with short ASCII keys, arrays, ASCII strings, numbers, booleans, nil
// and `undefined`: those are read here in one walk, with the keys taken
// from a small cache (a key decoded once is the same string, already
// internalised as a property name, for every later record). Anything else —
// an extension (Date, binary, Set, bigint), a non-ASCII string, a key that is
// not a short ASCII string, a malformed or trailing byte — hands the whole
// payload to msgpackr (payloadCodec) instead, so every value and every error
// is exactly msgpackr's: what is read here is only what msgpackr would read
// the same way (FORMAT.md, "Payload").

/** Returned by a reader below when the payload has something only msgpackr reads. */
const OTHER = Symbol('other');

let src: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;

/** Big-endian float64 bytes are turned around into this, then read as a double (little-endian platforms; see below). */
const floatBytes = new Uint8Array(8);
const floatView = new Float64Array(floatBytes.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Keys, by a hash of their length and first bytes; an entry is used when its bytes match. */
const KEY_CACHE_SIZE = 4096;
const keyCache: Array<string | undefined> = new Array(KEY_CACHE_SIZE);
/** Keys longer than this are not cached (and the payload goes to msgpackr: fixstr keys only, below 32 bytes). */
const MAX_KEY_BYTES = 31;

/** The payload at bytes `start` … `stop`-1 of `bytes`, as payloadCodec.unpack would give it. */
export function decodePayload(bytes: Buffer, start: number, stop: number): unknown {
  src = bytes;
  pos = start;
  end = stop;
  const value = LITTLE_ENDIAN ? read() : OTHER;
  if (value !== OTHER && pos === stop) return value;
  if (stop - start < SMALL_PAYLOAD_BYTES) return payloadCodec.unpack(bytes.subarray(start, stop));
  payloadRange.start = start;
  payloadRange.end = stop;
  return payloadCodec.unpack(bytes, payloadRange);
}

/** msgpackr's range argument, reused: one object less per payload. */
const payloadRange = { start: 0, end: 0 };

/**
 * Payloads shorter than this go to msgpackr as a view of their own: it reads
 * the strings of a source that ends before byte 140 in JavaScript, and hands
 * any other to its native string extractor, whose call costs more than the
 * view for the short strings of a small event.
 */
const SMALL_PAYLOAD_BYTES = 140;

function read(): unknown {
  if (pos >= end) return OTHER;
  const token = src[pos++];
  if (token < 0x80) return token; // positive fixint
  if (token < 0x90) return readMap(token - 0x80);
  if (token < 0xa0) return readArray(token - 0x90);
  if (token < 0xc0) return readString(token - 0xa0);
  if (token >= 0xe0) return token - 0x100; // negative fixint
  switch (token) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcb:
      return readFloat64();
    case 0xcc:
      return pos + 1 <= end ? src[pos++] : OTHER;
    case 0xcd:
      return pos + 2 <= end ? (src[pos++] << 8) | src[pos++] : OTHER;
    case 0xce:
      return pos + 4 <= end ? readU32() : OTHER;
    case 0xd0:
      return pos + 1 <= end ? (src[pos++] << 24) >> 24 : OTHER;
    case 0xd1:
      return pos + 2 <= end ? (((src[pos++] << 8) | src[pos++]) << 16) >> 16 : OTHER;
    case 0xd2:
      return pos + 4 <= end ? readU32() | 0 : OTHER;
    case 0xd4:
      // fixext 1 of type 0: msgpackr's `undefined` (its byte is skipped).
      if (pos + 2 > end || src[pos] !== 0) return OTHER;
      pos += 2;
      return undefined;
    case 0xd9:
      return pos + 1 <= end ? readString(src[pos++]) : OTHER;
    case 0xda:
      return pos + 2 <= end ? readString((src[pos++] << 8) | src[pos++]) : OTHER;
    case 0xdc:
      return pos + 2 <= end ? readArray((src[pos++] << 8) | src[pos++]) : OTHER;
    case 0xde:
      return pos + 2 <= end ? readMap((src[pos++] << 8) | src[pos++]) : OTHER;
    default:
      return OTHER;
  }
}

function readU32(): number {
  const value = src[pos] * 0x100_0000 + ((src[pos + 1] << 16) | (src[pos + 2] << 8) | src[pos + 3]);
  pos += 4;
  return value;
}

function readFloat64(): number | typeof OTHER {
  if (pos + 8 > end) return OTHER;
  for (let k = 0; k < 8; k++) floatBytes[7 - k] = src[pos + k];
  pos += 8;
  return floatView[0];
}

function readArray(length: number): unknown[] | typeof OTHER {
  // Every item takes a byte at least: a longer claim is malformed (msgpackr's error, then).
  if (length > end - pos) return OTHER;
  const array: unknown[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const item = read();
    if (item === OTHER) return OTHER;
    array[i] = item;
  }
  return array;
}

function readMap(size: number): Record<string, unknown> | typeof OTHER {
  if (size > (end - pos) / 2) return OTHER;
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = readKey();
    if (key === undefined) return OTHER;
    const value = read();
    if (value === OTHER) return OTHER;
    object[key] = value;
  }
  return object;
}

/** A fixstr key of ASCII bytes, from the cache when it holds it; undefined for any other key (msgpackr renames `__proto__`: it goes there too). */
function readKey(): string | undefined {
  if (pos >= end) return undefined;
  const token = src[pos];
  if (token < 0xa0 || token > 0xa0 + MAX_KEY_BYTES) return undefined;
  const length = token - 0xa0;
  const start = pos + 1;
  if (start + length > end) return undefined;
  const slot = ((length << 5) ^ (length > 1 ? (src[start] << 8) | src[start + 1] : length > 0 ? src[start] : 0)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length) {
    let k = 0;
    while (k < length && src[start + k] === cached.charCodeAt(k)) k++;
    if (k === length) {
      pos = start + length;
      return cached;
    }
  }
  const key = asciiAt(start, length);
  if (key === undefined || key === '__proto__') return undefined;
  keyCache[slot] = key;
  pos = start + length;
  return key;
}

function readString(length: number): string | typeof OTHER {
  if (pos + length > end) return OTHER;
  const text = asciiAt(pos, length);
  if (text === undefined) return OTHER;
  pos += length;
  return text;
}

const fromCharCode = String.fromCharCode;

/** Strings of up to this many bytes are made by one String.fromCharCode call (≈ 18 ns for 9 bytes, against 46 for latin1Slice). */
const SHORT_STRING_BYTES = 16;

/** Bytes `start` … `start+length`-1 as a string when they are all ASCII (then UTF-8 and Latin-1 agree), else undefined. */
function asciiAt(start: number, length: number): string | undefined {
  const s = src;
  const stop = start + length;
  let bits = 0;
  for (let k = start; k < stop; k++) bits |= s[k];
  if (bits & 0x80) return undefined;
  if (length > SHORT_STRING_BYTES) return s.toString('latin1', start, stop);
  // prettier-ignore
  switch (length) {
    case 0:
      return fromCharCode();
    case 1:
      return fromCharCode(s[start]);
    case 2:
      return fromCharCode(s[start], s[start + 1]);
    case 3:
      return fromCharCode(s[start], s[start + 1], s[start + 2]);
    case 4:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3]);
    case 5:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4]);
    case 6:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5]);
    case 7:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6]);
    case 8:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7]);
    case 9:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8]);
    case 10:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9]);
    case 11:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10]);
    case 12:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10], s[start + 11]);
    case 13:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10], s[start + 11], s[start + 12]);
    case 14:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10], s[start + 11], s[start + 12], s[start + 13]);
    case 15:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10], s[start + 11], s[start + 12], s[start + 13], s[start + 14]);
    default:
      return fromCharCode(s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5], s[start + 6], s[start + 7], s[start + 8], s[start + 9], s[start + 10], s[start + 11], s[start + 12], s[start + 13], s[start + 14], s[start + 15]);
  }
}
