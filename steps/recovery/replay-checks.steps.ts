import { Given, Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import CRC32 from 'crc-32';
import { CorruptionError, type RecordedEvent } from '../../src/index';
import { BlockBuffers, checkAhead, whenChecked } from '../../src/log/checks-ahead';
import { FIXED_RECORD_BYTES } from '../../src/log/record';
import { SEGMENT_HEADER_BYTES } from '../../src/log/segment-file';
import { numberedEvents } from '../support/events';
import { logDamage } from '../support/log-damage-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Most events in a page of the log's reader (src/log/log-reader.ts). */
const PAGE_EVENTS = 256;

// features/recovery/replay-checks.feature: a replay of blocks the check worker checks ahead.

Given(
  'a store with {int} events in appends of {int} and a snapshot of all of them, closed cleanly',
  async function (this: EventfoldWorld, count: number, per: number) {
    this.storeOptions.snapshotEvery = 0;
    const store = await this.openStore();
    for (let first = 0; first < count; first += per) await store.append(`stream-${(first / per) % 7}`, numberedEvents(per, first));
    expect(await store.checkpoint()).to.not.equal(null);
    await store.close();
    this.store = undefined;
  },
);

/** Every event read in order by `pages` (readAll's events as pages of one, or readAllPages), and the error that ended the read. */
async function replay(pages: AsyncIterable<RecordedEvent | RecordedEvent[]>): Promise<{ events: RecordedEvent[]; error: unknown }> {
  const events: RecordedEvent[] = [];
  try {
    for await (const item of pages) events.push(...(Array.isArray(item) ? item : [item]));
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** Throws unless `events` are the first ones appended, as numberedEvents made them. */
function expectAsAppended(events: RecordedEvent[], count: number): void {
  expect(events).to.have.length(count);
  const expected = numberedEvents(count);
  events.forEach((event, i) => {
    if (event.position !== i || JSON.stringify(event.data) !== JSON.stringify(expected[i].data)) {
      throw new Error(`event ${i} read back as position ${event.position} with ${JSON.stringify(event.data)}`);
    }
  });
}

function expectCorruptionOfDamagedRecord(world: EventfoldWorld, error: unknown): void {
  const damage = logDamage(world).damage!;
  expect(error).to.be.instanceOf(CorruptionError);
  const corruption = error as CorruptionError;
  expect(corruption.file).to.equal(`log/${damage.path.split('/').pop()}`);
  expect(corruption.offset).to.equal(damage.span.offset);
  expect(corruption.expectedCrc).to.equal(damage.storedCrc);
  const body = damage.damaged.subarray(damage.span.offset + FIXED_RECORD_BYTES, damage.span.offset + damage.span.length);
  expect(corruption.actualCrc).to.equal(CRC32.buf(body) >>> 0);
}

/** What the first replay of a damaged store found, for the replay a page at a time to be compared with. */
const firstReplay = scenarioState(() => ({ events: 0, error: undefined as unknown }));

Then(
  'reading all events returns events as appended, none past the first {int}, then fails with the CorruptionError of record {int}',
  async function (this: EventfoldWorld, count: number, _n: number) {
    const { events, error } = await replay(this.store!.readAll());
    // The events of the page the damage is in are not handed out (the page is never completed): a prefix ends the read.
    expect(events.length).to.be.at.most(count);
    expect(events.length).to.be.at.least(count - PAGE_EVENTS);
    expectAsAppended(events, events.length);
    expectCorruptionOfDamagedRecord(this, error);
    firstReplay(this).events = events.length;
    firstReplay(this).error = error;
  },
);

Then('reading all events a page at a time returns the same events, then fails with the same CorruptionError', async function (this: EventfoldWorld) {
  const first = firstReplay(this);
  const { events, error } = await replay(this.store!.readAllPages());
  expectAsAppended(events, first.events);
  expectCorruptionOfDamagedRecord(this, error);
  expect((error as Error).message).to.equal((first.error as Error).message);
});

Then('reading all events returns the {int} events as appended', async function (this: EventfoldWorld, count: number) {
  const { events, error } = await replay(this.store!.readAll());
  expect(error).to.equal(undefined);
  expectAsAppended(events, count);
});

Then(
  'the check worker, given the whole damaged segment as one block, passes exactly the records before record {int}',
  async function (this: EventfoldWorld, _n: number) {
    const damage = logDamage(this).damage!;
    const records = damage.damaged.subarray(SEGMENT_HEADER_BYTES);
    const block = new BlockBuffers().take(records.length);
    records.copy(block);
    const progress = checkAhead(block, damage.damaged.length, SEGMENT_HEADER_BYTES);
    expect(progress, 'a block this large goes to the check worker').to.not.equal(null);
    expect(await whenChecked(progress!)).to.equal(damage.span.offset - SEGMENT_HEADER_BYTES);
  },
);
