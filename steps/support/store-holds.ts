import { expect } from 'chai';
import { assertGapless, readAllEvents } from './events';
import type { EventfoldWorld } from './world';

/**
 * The one "the store holds N events" check: the open store's last position
 * is N - 1 and reading all events returns N. After an open ("the store opens
 * with"), the open must have succeeded and the positions run from 0 without a
 * gap. (Retention may hide events from reads: then only those two numbers
 * are checked, as a reader sees them.)
 */
export async function expectStoreHolds(world: EventfoldWorld, count: number, { afterOpen = false } = {}): Promise<void> {
  if (afterOpen) expect(world.lastError, String(world.lastError)).to.equal(undefined);
  expect(world.store, 'an open store').to.not.equal(undefined);
  const events = await readAllEvents(world.store!);
  expect(events).to.have.length(count);
  if (afterOpen) assertGapless(events);
  expect(world.store!.position).to.equal(count - 1);
}
