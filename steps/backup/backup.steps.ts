import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, inspectStore, type BackupResult, type RecordedEvent } from '../../src/index';
import { runEventfold } from '../support/eventfold-cli';
import { collect } from '../support/events';
import { writerAcks, writerLines, writerReached } from '../support/writer-acks';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';


function backupDir(world: EventfoldWorld): string {
  return join(world.dir, 'backup');
}

/** What the backup steps of one scenario share. */
const backups = scenarioState(() => ({
  /** The source's newest snapshot and its subscription's position when the backup started. */
  snapshot: undefined as string | undefined,
  subscriptionPosition: undefined as number | undefined,
  /** What the backup said it holds (from the CLI: its position only). */
  result: undefined as Pick<BackupResult, 'position' | 'snapshot'> | undefined,
  /** The last acknowledged position before the backup started. */
  acknowledgedBeforeBackup: -1,
  /** The source's last position after the callers stopped (set when this process wrote the source). */
  sourcePosition: undefined as number | undefined,
}));

Given('a new store of {int} events with a snapshot and a subscription {string} that has handled {int} of them', async function (this: EventfoldWorld, count: number, name: string, handled: number) {
  const store = await this.openStore();
  for (let i = 0; i < count; i += 10) {
    await store.append(`account-${(i / 10) % 7}`, Array.from({ length: 10 }, (_, k) => ({ type: 'Deposited', data: { seq: i + k, amount: (i + k) % 97 }, metadata: { by: 'teller' } })));
  }
  backups(this).snapshot = (await store.checkpoint())!.file;
  const subscription = await store.subscribe(name, () => undefined, { from: -1, checkpointEvery: 10 });
  await subscription.waitFor(handled - 1);
  await subscription.stop();
  backups(this).subscriptionPosition = subscription.position;
});

When('{int} callers keep appending while the store is backed up', async function (this: EventfoldWorld, callers: number) {
  const store = this.store!;
  let stop = false;
  let acknowledgedBeforeBackup = -1;
  let appendsAfterBackup = 0;
  let backupStarted = false;
  let lastAcknowledged = -1;
  const appending = Array.from({ length: callers }, async (_, caller) => {
    for (let seq = 0; !stop; seq++) {
      const { position } = await store.append(`caller-${caller}`, [{ type: 'Ticked', data: { caller, seq, blob: 'x'.repeat(seq % 200) } }]);
      lastAcknowledged = Math.max(lastAcknowledged, position);
      if (backupStarted) appendsAfterBackup++;
    }
  });
  // Let the callers get going, then back up in the middle of their appends.
  const goingSince = store.position;
  while (lastAcknowledged < goingSince + 300) await new Promise((resolve) => setImmediate(resolve));
  acknowledgedBeforeBackup = lastAcknowledged;
  backupStarted = true;
  const result = await store.backup(backupDir(this));
  // Appends went on during the backup and go on after it.
  while (appendsAfterBackup < 200) await new Promise((resolve) => setImmediate(resolve));
  stop = true;
  await Promise.all(appending);
  Object.assign(backups(this), { result, acknowledgedBeforeBackup, sourcePosition: store.position });
  await this.figures(
    { name: 'backup position', value: result.position, unit: 'position' },
    { name: 'events appended while the backup ran and after', value: store.position - result.position, unit: 'events' },
    { name: 'backup bytes', value: result.bytes, unit: 'bytes' },
  );
});

Then('every event acknowledged before the backup started is in the backup', function (this: EventfoldWorld) {
  expect(backups(this).result, 'the backup ran').to.not.equal(undefined);
  const position = (backups(this).result!).position;
  expect(position).to.be.at.least(backups(this).acknowledgedBeforeBackup);
});

Then(
  'the backup holds every event up to its position exactly as the store does — positions, versions, ids, timestamps, data and metadata — and nothing after it',
  async function (this: EventfoldWorld) {
    const position = (backups(this).result!).position;
    const source = this.store && !this.store.readOnly && backups(this).sourcePosition !== undefined ? this.store : await EventStore.open(this.storeDir, { readOnly: true });
    const original = await collect(source.readAll({ limit: position + 1 }));
    expect(source.position, 'the store went on past the backup').to.be.greaterThan(position);
    if (source !== this.store) await source.close();
    const copy = await EventStore.open(backupDir(this), { readOnly: true });
    const copied = await collect(copy.readAll());
    await copy.close();
    expect(copied).to.have.length(position + 1);
    expect(copied).to.deep.equal(original);
    const streams = new Set(copied.map((e: RecordedEvent) => e.stream));
    expect(streams.size).to.be.greaterThan(1);
  },
);

Then('the backup holds the store\'s snapshot and the checkpoint of {string} at position {int}', async function (this: EventfoldWorld, name: string, position: number) {
  expect(backups(this).result!.snapshot).to.equal(backups(this).snapshot);
  expect(backups(this).subscriptionPosition).to.equal(position);
  const inspection = await inspectStore(backupDir(this));
  expect(inspection.subscriptions.map((s) => ({ name: s.name, position: s.position }))).to.deep.equal([{ name, position }]);
  expect(inspection.snapshots.map((s) => `snapshots/${s.name}`)).to.deep.equal([backups(this).snapshot]);
  expect(inspection.healthy, inspection.problems.join('; ')).to.equal(true);
});

Then('the backup opens as a store that was closed cleanly, starts from that snapshot and takes a new append at the next position', async function (this: EventfoldWorld) {
  const position = (backups(this).result!).position;
  const copy = await EventStore.open(backupDir(this));
  try {
    expect(copy.recovery.cleanShutdown).to.equal(true);
    expect(copy.recovery.snapshot.used).to.equal(backups(this).snapshot);
    expect(copy.position).to.equal(position);
    expect((await copy.append('restored', [{ type: 'Checked' }])).position).to.equal(position + 1);
  } finally {
    await copy.close();
  }
});

When('the writer has acknowledged {int} appends', async function (this: EventfoldWorld, count: number) {
  await new Promise<void>((resolve) => {
    const check = () => writerAcks(this).length >= count && resolve();
    writerLines(this).listeners.push(check);
    check();
  });
});

function runBackup(world: EventfoldWorld): void {
  world.cli = runEventfold(['backup', world.storeDir, backupDir(world)]);
}

When('the operator runs "eventfold backup" into a new directory', function (this: EventfoldWorld) {
  backups(this).acknowledgedBeforeBackup = Math.max(...writerAcks(this).map((a) => a.position));
  runBackup(this);
  const match = /backed up positions 0 to (\d+)/.exec(this.cli!.stdout);
  if (match) backups(this).result = { position: Number(match[1]), snapshot: null };
});

Then("the writer goes on appending past the backup's position", async function (this: EventfoldWorld) {
  await writerReached(this, (backups(this).result!).position + 100);
});

Given('a folder with one file in it already exists where the backup should go', function (this: EventfoldWorld) {
  mkdirSync(backupDir(this));
  writeFileSync(join(backupDir(this), 'notes.txt'), 'keep me');
});

When('the operator runs "eventfold backup" into that folder', function (this: EventfoldWorld) {
  runBackup(this);
});

Then('that folder still holds just its one file', function (this: EventfoldWorld) {
  expect(readdirSync(backupDir(this))).to.deep.equal(['notes.txt']);
  expect(readdirSync(this.dir).filter((name) => name.includes('partial'))).to.deep.equal([]);
});
