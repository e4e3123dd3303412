import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { produce } from 'immer';
import { NodeFileSystem, type FileHandle, type RecordedEvent } from '../../src/index';
import { LAST_TEXTS } from '../support/erasure';
import { readAllEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * A projection whose rebuild after a scavenge did not finish
 * (features/lifecycle/projection-rebuild-failure.feature).
 */

/** Node's file system whose reads fail with EIO while `failing` is set: a disk that stops answering, without timing. */
class FailingReads extends NodeFileSystem {
  failing = false;

  override async open(path: string, mode?: 'read' | 'write'): Promise<FileHandle> {
    const handle = await super.open(path, mode);
    const read = handle.read.bind(handle);
    handle.read = async (...args: Parameters<FileHandle['read']>) => {
      if (this.failing) throw Object.assign(new Error(`EIO: i/o error, read ${path}`), { code: 'EIO' });
      return read(...args);
    };
    return handle;
  }
}

const rebuilds = scenarioState(() => ({
  fs: new FailingReads(),
  scavengeError: undefined as Error | undefined,
  acknowledged: 0,
}));

Given("a new store with a projection keeping each stream's last text and a snapshot every {int} events, whose segments roll every {int} KiB", async function (this: EventfoldWorld, every: number, kib: number) {
  this.storeOptions = { segmentSize: kib * 1024, projections: LAST_TEXTS as never, snapshotEvery: every, fs: rebuilds(this).fs };
  await this.openStore();
});

When('the store is scavenged and the log cannot be read from the moment its last segment is in place', async function (this: EventfoldWorld) {
  const state = rebuilds(this);
  const fs = state.fs;
  try {
    await this.store!.scavenge({ onProgress: (p) => void (fs.failing ||= p.segmentsDone === p.segmentsTotal) });
  } catch (error) {
    state.scavengeError = error as Error;
  } finally {
    fs.failing = false;
  }
});

When('the store is scavenged with a progress callback that throws {string} after the first segment', async function (this: EventfoldWorld, message: string) {
  const state = rebuilds(this);
  try {
    await this.store!.scavenge({
      onProgress: () => {
        throw new Error(message);
      },
    });
  } catch (error) {
    state.scavengeError = error as Error;
  }
});

Then("the scavenge was refused with the callback's error {string}", function (this: EventfoldWorld, message: string) {
  expect(rebuilds(this).scavengeError?.message).to.equal(message);
});

Then('the scavenge was refused with a {word}', function (this: EventfoldWorld, name: string) {
  expect(rebuilds(this).scavengeError?.name, String(rebuilds(this).scavengeError)).to.equal(name);
});

Then("the projection's state is refused with a ProjectionError saying {string}", function (this: EventfoldWorld, text: string) {
  expect(() => this.store!.state('lastTexts' as never))
    .to.throw()
    .that.satisfies((error: Error) => error.name === 'ProjectionError' && error.message.includes(text));
});

/** The snapshot files in the store's directory. */
function snapshotFiles(world: EventfoldWorld): string[] {
  const dir = join(world.storeDir, 'snapshots');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.snap')) : [];
}

Then("no snapshot was written since the scavenge, and the store's snapshot error is a ProjectionError", function (this: EventfoldWorld) {
  expect(snapshotFiles(this)).to.deep.equal([]);
  expect(this.store!.snapshotError?.name, String(this.store!.snapshotError)).to.equal('ProjectionError');
});

Then('a checkpoint is refused with a ProjectionError', async function (this: EventfoldWorld) {
  const error = await this.store!.checkpoint().then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.name, String(error)).to.equal('ProjectionError');
  expect(snapshotFiles(this)).to.deep.equal([]);
});

Then('the projection holds no text {string} and is what folding the events kept gives', async function (this: EventfoldWorld, text: string) {
  const state = this.store!.state('lastTexts' as never);
  expect(JSON.stringify(state)).to.not.contain(text);
  const events = await readAllEvents(this.store!);
  const folded = produce(LAST_TEXTS.lastTexts.initialState, (draft) => {
    for (const event of events) LAST_TEXTS.lastTexts.evolve(draft, event);
  });
  expect(state).to.deep.equal(folded);
});

// ---- a projection that refuses one of the events kept ----

interface Customers {
  customers: Record<string, string>;
  orders: number;
}

/** Registered customers and the number of orders; an order of a customer it does not know is refused. */
const CUSTOMERS = {
  customers: {
    initialState: { customers: {}, orders: 0 } as Customers,
    version: 1,
    evolve: (draft: Customers, event: RecordedEvent) => {
      const { customer, note } = (event.data ?? {}) as { customer?: string; note?: string };
      if (event.type === 'Registered') draft.customers[customer!] = note ?? '';
      if (event.type === 'OrderPlaced') {
        if (!(customer! in draft.customers)) throw new Error(`an order of ${customer}, a customer it does not know`);
        draft.orders++;
      }
    },
  },
};

Given('a new store with a projection of customers that refuses an order of a customer it does not know, and a snapshot every {int} events', async function (this: EventfoldWorld, every: number) {
  this.storeOptions = { segmentSize: 16 * 1024, projections: CUSTOMERS as never, snapshotEvery: every };
  await this.openStore();
});

Given('{string} registers, then {string} registers with the text {string}, then each places {int} orders', async function (this: EventfoldWorld, first: string, second: string, text: string, orders: number) {
  const store = this.store!;
  await store.append(first, [{ type: 'Registered', data: { customer: first, note: `${first} lives here` } }]);
  await store.append(second, [{ type: 'Registered', data: { customer: second, note: `${text} lives here` } }]);
  for (let i = 0; i < orders; i++) {
    for (const customer of [first, second]) await store.append('orders', [{ type: 'OrderPlaced', data: { customer, i } }]);
  }
  expect((store.state('customers' as never) as Customers).orders).to.equal(2 * orders);
});

Then('the projection of customers is refused with a ProjectionError naming the event it refused', function (this: EventfoldWorld) {
  expect(() => this.store!.state('customers' as never))
    .to.throw()
    .that.satisfies((error: Error) => error.name === 'ProjectionError' && /position \d+/.test(error.message) && error.message.includes('does not know'));
});

When('{string} places {int} orders', async function (this: EventfoldWorld, customer: string, count: number) {
  const state = rebuilds(this);
  for (let i = 0; i < count; i++) {
    const placed = await this.store!.append('orders', [{ type: 'OrderPlaced', data: { customer, i } }]).then(
      () => true,
      () => false,
    );
    if (placed) state.acknowledged++;
  }
});

Then('all {int} orders were acknowledged', function (this: EventfoldWorld, count: number) {
  expect(rebuilds(this).acknowledged).to.equal(count);
});

When('the store is closed and opened again, capturing the error', async function (this: EventfoldWorld) {
  await this.store!.close();
  this.store = undefined;
  await this.capture(() => this.openStore());
});
