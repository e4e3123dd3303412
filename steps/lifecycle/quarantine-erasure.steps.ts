import { Given } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHeader } from '../../src/log/record';
import { recordSpans } from '../support/damage';
import { filesHolding } from '../support/erasure';
import type { EventfoldWorld } from '../support/world';

/** Records a repair set aside in quarantine (features/lifecycle/quarantine-erasure.feature). */

Given('a repair has set aside in quarantine the custom metadata of {string} holding the text {string}', async function (this: EventfoldWorld, stream: string, text: string) {
  // A record damaged on disk, then the metadata: a repair cuts the log at the damage and sets both aside.
  const damaged = await this.store!.append('orders-damaged', [{ type: 'Placed' }]);
  await this.store!.setStreamMetadata(stream, { custom: { email: `${text}@example.com` } });
  await this.store!.close();
  const logDir = join(this.storeDir, 'log');
  let flipped = false;
  for (const name of readdirSync(logDir).filter((n) => n.endsWith('.seg'))) {
    const bytes = readFileSync(join(logDir, name));
    const span = recordSpans(bytes).find(({ offset }) => decodeHeader(bytes, offset).position === damaged.position);
    if (!span) continue;
    bytes[span.offset + span.length - 1] ^= 1;
    writeFileSync(join(logDir, name), bytes);
    flipped = true;
  }
  expect(flipped, 'the damaged record was found').to.equal(true);
  await this.openStore({ repair: 'truncate' });
  expect(this.store!.recovery.quarantine, 'the repair set the records aside').to.not.equal(null);
  expect(filesHolding(join(this.storeDir, 'quarantine'), text), 'the quarantine holds the text').to.have.length.greaterThan(0);
});
