import { Then } from '@cucumber/cucumber';
import { expectStoreHolds } from './support/store-holds';
import type { EventfoldWorld } from './support/world';

/** "the store holds 9 events", "still holds", "opens with the first 9 events": one check (support/store-holds.ts). */
Then(/^the store (opens with|holds|still holds) (?:the first )?(\d+) events$/, async function (this: EventfoldWorld, how: string, count: string) {
  await expectStoreHolds(this, Number(count), { afterOpen: how === 'opens with' });
});
