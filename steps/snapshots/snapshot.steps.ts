import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { InvalidInputError, SimulatedDisk, type AppendResult, type CheckpointResult, type DiskOperation, type Projection, type RecordedEvent } from '../../src/index';
import { recordSpans } from '../support/damage';
import { decodeSnapshot, snapshotName } from '../../src/snapshot/snapshot-file';
import { QUARANTINE_DIR, SNAPSHOT_DIR, snapshotFile } from '../../src/store-layout';
import { collect, numberedEvents } from '../support/events';
import { segmentPaths, storePath } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import { expectStoreHolds } from '../support/store-holds';
import type { EventfoldWorld } from '../support/world';

/** What the snapshot steps of one scenario share. */
const snapshots = scenarioState(() => ({
  /** The setup closed the store it made (the next step reopens it). */
  closedAfterSetup: false,
  /** The checkpoint taken while appends went on, and those appends. */
  checkpoint: undefined as CheckpointResult | null | undefined,
  appendsDuringCheckpoint: [] as AppendResult[],
}));

interface Totals {
  count: number;
  sum: number;
}

function totals(weight = 1, version = 1): Projection<Totals> {
  return {
    version,
    initialState: { count: 0, sum: 0 },
    evolve(draft, event) {
      draft.count += weight;
      draft.sum += (event.data as { amount: number }).amount;
    },
  };
}

/** Appends `count` numbered events round-robin over `streams` streams, in appends of `per` events. */
async function appendOver(world: EventfoldWorld, count: number, streams: number, per = 10): Promise<void> {
  const first = world.store!.position + 1;
  for (let done = 0; done < count; done += per) {
    const n = Math.min(per, count - done);
    await world.store!.append(`stream-${Math.floor((first + done) / per) % streams}`, numberedEvents(n, first + done));
  }
}

function snapshotsDir(world: EventfoldWorld): string {
  return storePath(world, SNAPSHOT_DIR);
}

async function snapshotNames(world: EventfoldWorld): Promise<string[]> {
  const names = world.disk ? await world.disk.readdir(snapshotsDir(world)) : readdirSync(snapshotsDir(world));
  return names.sort();
}

/** Opens a store with "totals", appends `count` events, checkpointing after each position in `at`, and closes it. */
async function storeWithSnapshots(world: EventfoldWorld, count: number, at: number[]): Promise<void> {
  world.storeOptions.projections = { totals: totals() };
  world.storeOptions.snapshotEvery = 0;
  await world.openStore();
  for (const position of [...at, count - 1]) {
    await appendOver(world, position - world.store!.position, 3, 1);
    if (position !== count - 1) await world.store!.checkpoint();
  }
}

Given('a new store with a {string} projection that counts events and sums their amounts', async function (this: EventfoldWorld, name: string) {
  this.storeOptions.projections = { [name]: totals() };
  this.storeOptions.snapshotEvery = 0;
  await this.openStore();
});

Given(/^(\d+) (?:more )?events are appended over (\d+) streams$/, async function (this: EventfoldWorld, count: string, streams: string) {
  await appendOver(this, Number(count), Number(streams));
});

/** store.checkpoint(): a snapshot of everything durable now (every scenario's store holds events by then). */
Given('a checkpoint is taken', async function (this: EventfoldWorld) {
  expect(await this.store!.checkpoint()).to.not.equal(null);
});

Then('a snapshot was taken each time {int} KiB more of log had been written', async function (this: EventfoldWorld, kib: number) {
  const ends = (await snapshotNames(this)).map((name) => decodeSnapshot(readFileSync(`${snapshotsDir(this)}/${name}`), name).logEnd.offset);
  // A trigger that comes while a snapshot is still being written waits for the next batch, so count at least 2.
  expect(ends.length).to.be.at.least(2);
  expect(ends[0]).to.be.at.least(kib * 1024);
  for (let i = 1; i < ends.length; i++) expect(ends[i] - ends[i - 1]).to.be.at.least(kib * 1024);
});

Given('a store with {int} events and snapshots at positions {int} and {int}', async function (this: EventfoldWorld, count: number, a: number, b: number) {
  await storeWithSnapshots(this, count, [a, b]);
  await this.store!.close();
  snapshots(this).closedAfterSetup = true;
});

Given(
  'a store on a simulated disk that keeps {int} snapshot, with {int} events and a snapshot at position {int}',
  async function (this: EventfoldWorld, keep: number, count: number, at: number) {
    this.disk = new SimulatedDisk();
    this.storeOptions.keepSnapshots = keep;
    await storeWithSnapshots(this, count, [at]);
  },
);

When('{int} events are appended in appends of {int}', async function (this: EventfoldWorld, count: number, per: number) {
  await appendOver(this, count, 4, per);
  // Automatic snapshots are written in the background: wait for the last one.
  await this.store!.close();
});

When('{int} checkpoints are taken, each after {int} more events', async function (this: EventfoldWorld, times: number, per: number) {
  for (let i = 0; i < times; i++) {
    await appendOver(this, per, 4);
    await this.store!.checkpoint();
  }
});

Then('the snapshots on disk cover positions {int} and {int}', async function (this: EventfoldWorld, newer: number, older: number) {
  const expected = [older, newer].map(snapshotName);
  expect(await snapshotNames(this)).to.deep.equal(expected);
});

/** The temporary file a crash in the middle of writing the snapshot at position 299 leaves. */
const HALF_WRITTEN_SNAPSHOT = `${snapshotName(299)}.tmp`;

Given('a half-written temporary snapshot file is left in the snapshots folder', function (this: EventfoldWorld) {
  writeFileSync(`${snapshotsDir(this)}/${HALF_WRITTEN_SNAPSHOT}`, Buffer.from('EVFLDSNP half of a snapshot'));
});

Then('the recovery report lists the temporary snapshot file as removed', function (this: EventfoldWorld) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.store!.recovery.removedFiles).to.include(snapshotFile(HALF_WRITTEN_SNAPSHOT));
  expect(readdirSync(snapshotsDir(this))).not.to.include(HALF_WRITTEN_SNAPSHOT);
});

When('a byte in the middle of the snapshot at position {int} is flipped', async function (this: EventfoldWorld, position: number) {
  const path = `${snapshotsDir(this)}/${snapshotName(position)}`;
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x10;
  writeFileSync(path, bytes);
});

Then('the reopen started from the snapshot at position {int} and replayed {int} events', function (this: EventfoldWorld, position: number, replayed: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  const recovery = this.store!.recovery;
  expect(recovery.snapshot.used).to.equal(snapshotFile(snapshotName(position)));
  expect(recovery.eventsReplayed).to.equal(replayed);
  expect(recovery.snapshot.position! + 1 + replayed).to.equal(this.store!.position + 1);
});

Then('the reopen used no snapshot because {string} and replayed {int} events', function (this: EventfoldWorld, reason: string, replayed: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  const recovery = this.store!.recovery;
  expect(recovery.snapshot.used).to.equal(null);
  expect(recovery.snapshot.fullReplayReason).to.contain(reason);
  expect(recovery.eventsReplayed).to.equal(replayed);
});

Then('the recovery report says the snapshot at position {int} was skipped because {string}', function (this: EventfoldWorld, position: number, reason: string) {
  const file = snapshotFile(snapshotName(position));
  const skipped = this.store!.recovery.snapshot.skipped.find((s) => s.file === file);
  expect(skipped, JSON.stringify(this.store!.recovery.snapshot)).not.to.equal(undefined);
  expect(skipped!.reason).to.contain(reason);
});

Then('the {string} state counts {int} events, the same as a full replay of the log', async function (this: EventfoldWorld, name: string, count: number) {
  const state = this.store!.state(name) as Totals;
  const replayed: Totals = { count: 0, sum: 0 };
  for await (const event of this.store!.readAll()) {
    replayed.count++;
    replayed.sum += (event.data as { amount: number }).amount;
  }
  expect(state.count).to.equal(count);
  expect(state).to.deep.equal(replayed);
});

Then('the {string} state counts {int} events', function (this: EventfoldWorld, name: string, count: number) {
  expect((this.store!.state(name) as Totals).count).to.equal(count);
});

Then('each of the {int} streams reads back whole, in version order', async function (this: EventfoldWorld, streams: number) {
  let total = 0;
  for (let s = 0; s < streams; s++) {
    const events: RecordedEvent[] = await collect(this.store!.readStream(`stream-${s}`));
    expect(events.length).to.equal(this.store!.streamVersion(`stream-${s}`) + 1);
    events.forEach((event, i) => {
      expect(event.version).to.equal(i);
      expect(event.stream).to.equal(`stream-${s}`);
      // numberedEvents derives the content from the position it was appended at.
      expect((event.data as { seq: number }).seq).to.equal(event.position);
    });
    total += events.length;
  }
  expect(total).to.equal(this.store!.position + 1);
});

Then('no temporary snapshot file is left', async function (this: EventfoldWorld) {
  expect((await snapshotNames(this)).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
});

When('the store is opened again with {string} at version {int}, counting every event twice', async function (this: EventfoldWorld, name: string, version: number) {
  await this.capture(() => this.openStore({ projections: { [name]: totals(2, version) } }));
});

When('the log is cut back to its first {int} events', async function (this: EventfoldWorld, count: number) {
  const [path] = await segmentPaths(this);
  const spans = recordSpans(readFileSync(path));
  truncateSync(path, spans[count].offset);
});

When('a checkpoint starts and {int} single-event appends are made before it completes', async function (this: EventfoldWorld, count: number) {
  if (snapshots(this).closedAfterSetup) await this.openStore();
  const checkpoint = this.store!.checkpoint();
  const appends = Array.from({ length: count }, (_, i) => this.store!.append(`during-${i % 5}`, [{ type: 'Deposited', data: { amount: i } }]));
  snapshots(this).checkpoint = await checkpoint;
  snapshots(this).appendsDuringCheckpoint = await Promise.all(appends);
});

Then('the checkpoint covers position {int}', function (this: EventfoldWorld, position: number) {
  expect(snapshots(this).checkpoint?.position).to.equal(position);
});

Then('all {int} appends are acknowledged at positions {int} to {int}', function (this: EventfoldWorld, count: number, first: number, last: number) {
  const positions = snapshots(this).appendsDuringCheckpoint.map((r) => r.position).sort((a, b) => a - b);
  expect(positions).to.have.length(count);
  expect(positions[0]).to.equal(first);
  expect(positions[count - 1]).to.equal(last);
});

Then('after a reopen the store replays exactly those {int} events', async function (this: EventfoldWorld, count: number) {
  await this.store!.close();
  await this.openStore();
  expect(this.store!.recovery.eventsReplayed).to.equal(count);
  const tail = await collect(this.store!.readAll({ from: this.store!.recovery.snapshot.position! + 1 }));
  expect(tail.map((e) => e.stream.startsWith('during-'))).to.deep.equal(Array(count).fill(true));
});

/** A value object an application might keep in its state: msgpack would store it as a plain object. */
class Money {
  constructor(readonly cents: number) {}
}

Given('a new store with a {string} projection that keeps its total as a Money object', async function (this: EventfoldWorld, name: string) {
  this.storeOptions.projections = {
    [name]: {
      version: 1,
      initialState: { total: new Money(0) },
      evolve(draft: { total: Money }, event: RecordedEvent) {
        draft.total = new Money(draft.total.cents + (event.data as { amount: number }).amount);
      },
    },
  };
  await this.openStore({ snapshotEvery: 0 });
});

When('a checkpoint is attempted', async function (this: EventfoldWorld) {
  await this.capture(() => this.store!.checkpoint());
});

Then('no snapshot file was written', async function (this: EventfoldWorld) {
  const dir = snapshotsDir(this);
  const names = this.disk ? await this.disk.readdir(dir).catch(() => []) : (() => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  })();
  expect(names).to.deep.equal([]);
});

Then('the store holds {int} events and its {string} state counts {int} events', async function (this: EventfoldWorld, events: number, name: string, counted: number) {
  await expectStoreHolds(this, events, { afterOpen: true });
  expect((this.store!.state(name) as Totals).count).to.equal(counted);
});

Then('the snapshot at position {int} was moved to the quarantine folder and the one at position {int} kept', async function (this: EventfoldWorld, movedAt: number, keptAt: number) {
  const moved = snapshotName(movedAt);
  expect(await snapshotNames(this)).to.deep.equal([snapshotName(keptAt)]);
  expect(readdirSync(storePath(this, QUARANTINE_DIR)).some((name) => name.endsWith(`-${moved}`)), 'moved into quarantine/').to.equal(true);
  expect(this.store!.recovery.snapshot.skipped.map((s) => s.file)).to.include(snapshotFile(moved));
});
