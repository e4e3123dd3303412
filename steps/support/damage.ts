import { readFileSync, writeFileSync } from 'node:fs';
import { checkFrame, FRAME_HEADER_BYTES } from '../../src/log/record';
import { SEGMENT_HEADER_BYTES } from '../../src/log/segment-file';
import type { EventfoldWorld } from './world';

export interface RecordSpan {
  offset: number;
  length: number;
}

export async function readBytes(world: EventfoldWorld, path: string): Promise<Buffer> {
  return world.disk ? world.disk.peek(path) : readFileSync(path);
}

/** Replaces a file's bytes as bit rot or an outside writer would: behind the store's back. */
export async function writeBytes(world: EventfoldWorld, path: string, bytes: Buffer): Promise<void> {
  if (world.disk) world.disk.overwrite(path, bytes);
  else writeFileSync(path, bytes);
}

/** Where each record of a healthy segment starts and how long it is (header included). */
export function recordSpans(segment: Buffer): RecordSpan[] {
  const spans: RecordSpan[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (at < segment.length) {
    const check = checkFrame(segment, at, segment.length - at);
    if (check.kind !== 'ok') throw new Error(`segment is not healthy at ${at}: ${check.kind}`);
    spans.push({ offset: at, length: FRAME_HEADER_BYTES + check.length });
    at += FRAME_HEADER_BYTES + check.length;
  }
  return spans;
}

/** A small deterministic generator, so that "random" leftovers are the same on every run. */
export function seededBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}
