import type { EventStore, RecordedEvent } from '../../src/index';

/**
 * Where two values differ, by the data model's idea of "exactly": same
 * types (a Buffer is not a Uint8Array), Object.is for numbers (-0 is not 0,
 * NaN is NaN), Dates by their time (an invalid Date equals an invalid Date),
 * binary by type and bytes, Sets and arrays in order, objects by own keys in
 * order and values. A null-prototype object equals a plain object with the
 * same keys (the data model says it reads back as a plain object).
 * Returns null when equal, else the path and what differs.
 */
export function difference(expected: unknown, actual: unknown, path = '$'): string | null {
  if (typeof expected !== typeof actual) return `${path}: expected a ${typeof expected}, got a ${typeof actual}`;
  if (typeof expected !== 'object' || expected === null || actual === null) {
    return Object.is(expected, actual) ? null : `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  const e = expected as object;
  const a = actual as object;
  const protoE = Object.getPrototypeOf(e) ?? Object.prototype;
  const protoA = Object.getPrototypeOf(a) ?? Object.prototype;
  if (protoE !== protoA) return `${path}: expected a ${protoE?.constructor?.name}, got a ${protoA?.constructor?.name}`;
  if (e instanceof Date) return Object.is(e.getTime(), (a as Date).getTime()) ? null : `${path}: expected ${e.getTime()}, got ${(a as Date).getTime()}`;
  if (ArrayBuffer.isView(e) || e instanceof ArrayBuffer) {
    const be = bytesOf(e);
    const ba = bytesOf(a as ArrayBuffer);
    return Buffer.compare(be, ba) === 0 ? null : `${path}: bytes differ (${be.toString('hex')} vs ${ba.toString('hex')})`;
  }
  if (e instanceof Set) return difference([...e], [...(a as Set<unknown>)], `${path}<set>`);
  if (Array.isArray(e)) {
    const arr = a as unknown[];
    if (e.length !== arr.length) return `${path}: expected ${e.length} items, got ${arr.length}`;
    for (let i = 0; i < e.length; i++) {
      if (i in e !== i in arr) return `${path}[${i}]: a hole on one side only`;
      const d = difference(e[i], arr[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const keysE = Object.keys(e);
  const keysA = Object.keys(a);
  if (keysE.join('\u0000') !== keysA.join('\u0000')) return `${path}: expected keys ${JSON.stringify(keysE)}, got ${JSON.stringify(keysA)}`;
  for (const key of keysE) {
    const d = difference((e as Record<string, unknown>)[key], (a as Record<string, unknown>)[key], `${path}[${JSON.stringify(key)}]`);
    if (d) return d;
  }
  return null;
}

function bytesOf(value: ArrayBufferView | ArrayBuffer): Buffer {
  return ArrayBuffer.isView(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(value);
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (Object.is(value, -0)) return '-0';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** A stream's events read back both ways: by readStream, and picked out of readAll. */
export async function readBack(store: EventStore, stream: string): Promise<{ viaStream: RecordedEvent[]; viaAll: RecordedEvent[] }> {
  const viaStream: RecordedEvent[] = [];
  for await (const e of store.readStream(stream)) viaStream.push(e);
  const viaAll: RecordedEvent[] = [];
  for await (const e of store.readAll()) if (e.stream === stream) viaAll.push(e);
  return { viaStream, viaAll };
}
