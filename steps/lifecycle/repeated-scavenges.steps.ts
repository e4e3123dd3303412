import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventfoldWorld } from '../support/world';

/** Scavenges run again and again (features/lifecycle/repeated-scavenges.feature). */

When('the store is scavenged {int} times', async function (this: EventfoldWorld, times: number) {
  for (let i = 0; i < times; i++) await this.store!.scavenge();
});

Then('the log has {int} segment files', function (this: EventfoldWorld, count: number) {
  expect(readdirSync(join(this.storeDir, 'log')).filter((name) => name.endsWith('.seg'))).to.have.length(count);
});
