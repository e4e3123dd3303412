import { DuplicateEventIdError } from '../errors';
import type { ExpectedVersion } from '../expected-version';

/**
 * Idempotent appends: recognising a retry of an append that was already
 * written (the client timed out and sent it again).
 *
 * Nothing is kept in memory for it. A batch takes part only when every one
 * of its events carries a caller-chosen `id`; the store then reads back, from
 * the log, the events at the place the batch would take:
 *
 * - with a numeric `expectedVersion` v or `'no_stream'` (v = -1): the stream's
 *   events at versions v+1 … v+n (n = the batch's size), and only when the
 *   stream is already past v — when the append would otherwise conflict;
 * - with `'any'` or `'stream_exists'`: the stream's last n events.
 *
 * A retry is recognised when those events carry the batch's ids, in the same
 * order: nothing is written and the append resolves with the first one's
 * position and version. So a retry is recognised for as long as the first
 * append is still at that place: forever with an expected version, and with
 * `'any'` until another append to the same stream follows it.
 */

/** The ids a batch reads back, where it would land. */
export interface PlaceToExamine {
  /** First version to read (inclusive). */
  fromVersion: number;
  /** How many events to read from there (fewer exist when the stream is shorter). */
  count: number;
}

/** Where to look for a first attempt of this batch, or null when it cannot be a retry. */
export function placeToExamine(expected: ExpectedVersion, batchSize: number, lastVersion: number): PlaceToExamine | null {
  if (lastVersion < 0) return null;
  if (expected === 'any' || expected === 'stream_exists') {
    return { fromVersion: Math.max(0, lastVersion - batchSize + 1), count: batchSize };
  }
  const after = expected === 'no_stream' ? -1 : expected;
  // The stream is not past the expected version: the batch's place is still free.
  if (lastVersion <= after) return null;
  return { fromVersion: after + 1, count: batchSize };
}

/** The stored events found at the place, in version order. */
export interface StoredId {
  id: string;
  position: number;
  version: number;
}

/**
 * The first append's result when `stored` is the same batch, null when the
 * batch shares no id with it; a batch that shares some ids but not all, or
 * the same ids in another order or at another place, is refused.
 */
export function matchRetry(stream: string, ids: string[], stored: StoredId[]): { position: number; version: number } | null {
  const storedIds = new Set(stored.map((s) => s.id));
  const shared = ids.filter((id) => storedIds.has(id));
  if (shared.length === 0) return null;
  const same = stored.length === ids.length && ids.every((id, i) => stored[i].id === id);
  if (!same) throw new DuplicateEventIdError(stream, shared);
  const last = stored[stored.length - 1];
  return { position: last.position, version: last.version };
}
