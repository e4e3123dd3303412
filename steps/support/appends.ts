import type { EventStore, ExpectedVersion } from '../../src/index';
import { logBytes } from './log-files';
import { scenarioState } from './scenario-state';
import type { EventfoldWorld } from './world';

/** "0, 1, 2 and 5" → [0, 1, 2, 5] */
export const numberList = (text: string) => text.split(/,\s*|\s+and\s+/).map(Number);

/** An expectation as the features say it ("no stream", "version 4") → the `expectedVersion` option. */
export function parseExpectation(text: string): ExpectedVersion {
  if (text === 'no stream') return 'no_stream';
  if (text === 'stream exists') return 'stream_exists';
  if (text === 'any') return 'any';
  const match = /^version (-?\d+)$/.exec(text);
  if (!match) throw new Error(`unknown expectation "${text}"`);
  return Number(match[1]);
}

/** Set by "a new in-memory store": that store has no log whose bytes an append could be measured by. */
export const inMemoryStore = scenarioState(() => ({ inMemory: false }));

/** Appends through the world, remembering the result or the error and what the log held before. */
export async function appendVia(world: EventfoldWorld, stream: string, events: Parameters<EventStore['append']>[1], expectedVersion?: ExpectedVersion) {
  if (!inMemoryStore(world).inMemory) world.logBytesBefore = await logBytes(world);
  const result = await world.capture(() => world.store!.append(stream, events, { expectedVersion }));
  if (result) {
    world.lastResult = result;
    world.acknowledged.push({ ...result, stream, count: events.length });
  }
  return result;
}
