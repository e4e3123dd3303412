import { Then } from '@cucumber/cucumber';
import { expectStoreHolds } from '../support/store-holds';
import type { EventfoldWorld } from '../support/world';

/**
 * "the store holds 9 events", "still holds", "opens with the first 9 events",
 * "opened again holds 9 events" (after a command-line tool changed it): one
 * check (support/store-holds.ts).
 */
Then(/^the store (opens with|holds|still holds|opened again holds) (?:the first )?(\d+) events$/, async function (this: EventfoldWorld, how: string, count: string) {
  if (how === 'opened again holds') {
    await this.store?.close();
    await this.capture(() => this.openStore());
  }
  await expectStoreHolds(this, Number(count), { afterOpen: how !== 'holds' && how !== 'still holds' });
});
