import { DuplicateEventIdError } from '../errors';
import type { ExpectedVersion } from '../expected-version';

/**
 * Idempotent appends: recognising a retry of an append that was already
 * written (the client timed out and sent it again), and refusing ids reused
 * where they cannot be a retry. The exact contract (README, *Stream lifecycle*):
 *
 * - Ids are compared within one stream; the same id in another stream is
 *   not looked for (nothing is kept in memory: memory does not grow with
 *   the number of events).
 * - The same id twice in one batch is refused (DuplicateEventIdError), for
 *   every batch.
 * - A batch whose events all carry ids is compared, before it takes its
 *   place, with the events read back from the log:
 *   1. with a numeric `expectedVersion` v or `'no_stream'` (v = -1), when the
 *      stream is already past v (the append would conflict): the events at
 *      versions v+1 … v+n (n = the batch's size) — however long ago;
 *   2. whatever the expected version: the stream's last RETRY_WINDOW events
 *      (or its last n, when n is larger).
 *   Found there complete, in the same order, one after another: it is a
 *   retry — nothing is written and it resolves with the first append's
 *   position and version. Any of its ids found there otherwise (some ids,
 *   another order, or a first attempt only partly inside the window): it is
 *   refused with DuplicateEventIdError. Neither: it is appended as usual.
 * - A batch with some events without ids is never a retry (the store gives
 *   those events fresh ids) and is only checked for ids repeated inside it.
 */

/** How many of a stream's last events a batch with ids is compared with. */
export const RETRY_WINDOW = 20;

/** The ids a batch reads back, where it would land. */
export interface PlaceToExamine {
  /** First version to read (inclusive). */
  fromVersion: number;
  /** How many events to read from there (fewer exist when the stream is shorter). */
  count: number;
}

/**
 * Where the first attempt of a batch expecting a numeric version or
 * 'no_stream' would be: null when the stream is not past that version (the
 * place is free) or the batch expects 'any'/'stream_exists'.
 */
export function placeToExamine(expected: ExpectedVersion, batchSize: number, lastVersion: number): PlaceToExamine | null {
  if (lastVersion < 0 || expected === 'any' || expected === 'stream_exists') return null;
  const after = expected === 'no_stream' ? -1 : expected;
  if (lastVersion <= after) return null;
  return { fromVersion: after + 1, count: batchSize };
}

/** The stream's last events a batch of `batchSize` is compared with. */
export function windowToExamine(batchSize: number, lastVersion: number): PlaceToExamine | null {
  if (lastVersion < 0) return null;
  const count = Math.max(RETRY_WINDOW, batchSize);
  return { fromVersion: Math.max(0, lastVersion - count + 1), count };
}

/** A stored event read back, in version order. */
export interface StoredId {
  id: string;
  position: number;
  version: number;
}

/** The ids repeated inside one batch (DuplicateEventIdError when any). */
export function refuseRepeatedIds(stream: string, ids: ReadonlyArray<string | undefined>): void {
  if (ids.length < 2) return;
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const id of ids) {
    if (id === undefined) continue;
    if (seen.has(id)) repeated.add(id);
    seen.add(id);
  }
  if (repeated.size > 0) throw new DuplicateEventIdError(stream, [...repeated], 'the same batch');
}

/**
 * The first append's result when `stored` (consecutive events of the
 * stream) holds the batch complete, in order, one event after another; null
 * when it holds none of the batch's ids; DuplicateEventIdError otherwise.
 */
export function matchRetry(stream: string, ids: string[], stored: StoredId[]): { position: number; version: number } | null {
  const wanted = new Set(ids);
  const shared = stored.filter((s) => wanted.has(s.id)).map((s) => s.id);
  if (shared.length === 0) return null;
  const start = stored.findIndex((s) => s.id === ids[0]);
  const same = start >= 0 && start + ids.length <= stored.length && ids.every((id, i) => stored[start + i].id === id);
  if (!same) throw new DuplicateEventIdError(stream, [...new Set(shared)]);
  const last = stored[start + ids.length - 1];
  return { position: last.position, version: last.version };
}
