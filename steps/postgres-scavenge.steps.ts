// Steps of features/postgres/scavenge.feature: what a scavenge leaves in the
// events table and its files, and the processes around it (a writer, a
// subscriber, one that slept through it, one killed in the middle of it).
import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { RecordedEvent, ScavengeResult } from '../src/index';
import { exited, startChildWithInput, type ChildLines } from './support/child-lines';
import { readAllEvents } from './support/events';
import { database, databaseUrl, queryDatabase } from './support/postgres';
import { eventsTableSize, relationsHolding, type TableSize } from './support/postgres-tables';
import { runCli } from './support/eventfold-cli';
import type { EventfoldWorld } from './support/world';

async function rowsOf(world: EventfoldWorld, where: string, values: unknown[] = []): Promise<number> {
  const [{ n }] = await queryDatabase<{ n: string }>(database(world), `SELECT count(*) AS n FROM eventfold_events WHERE ${where}`, values);
  return Number(n);
}

Then("the events table holds {int} rows of the application's events", async function (this: EventfoldWorld, count: number) {
  expect(await rowsOf(this, `stream NOT LIKE '$%'`)).to.equal(count);
});

Then('the events table holds {int} row(s) of {string}', async function (this: EventfoldWorld, count: number, stream: string) {
  expect(await rowsOf(this, 'stream = $1', [stream])).to.equal(count);
});

// ---- the table's size ----

async function sizeFigures(world: EventfoldWorld, before: TableSize, now: TableSize): Promise<void> {
  await world.figures(
    { name: 'heap before', value: before.heap, unit: 'bytes' },
    { name: 'heap now', value: now.heap, unit: 'bytes' },
    { name: 'with indexes before', value: before.total, unit: 'bytes' },
    { name: 'with indexes now', value: now.total, unit: 'bytes' },
  );
}

Then("the events table's heap takes at least {int}% of its size before", async function (this: EventfoldWorld, share: number) {
  const before = this.memo.tableBefore as TableSize;
  const now = await eventsTableSize(this);
  await sizeFigures(this, before, now);
  expect(now.heap).to.be.at.least((before.heap * share) / 100);
});

Then("the events table's heap grew by less than {int}% since before the scavenge", async function (this: EventfoldWorld, growth: number) {
  const before = this.memo.tableBefore as TableSize;
  const now = await eventsTableSize(this);
  await sizeFigures(this, before, now);
  expect(now.heap).to.be.below(before.heap * (1 + growth / 100));
});

Then('the events table with its indexes takes between {int}% and {int}% of its size before', async function (this: EventfoldWorld, low: number, high: number) {
  const before = this.memo.tableBefore as TableSize;
  const now = await eventsTableSize(this);
  await sizeFigures(this, before, now);
  expect((100 * now.total) / before.total).to.be.within(low, high);
});

// ---- erasure ----

Then('no row of the events table holds the text {string}', async function (this: EventfoldWorld, text: string) {
  const where = `position(convert_to($1, 'UTF8') IN data) > 0 OR position(convert_to($1, 'UTF8') IN coalesce(metadata, '')) > 0`;
  expect(await rowsOf(this, where, [text])).to.equal(0);
});

Then('the files of the events table still hold the text {string}', async function (this: EventfoldWorld, text: string) {
  expect(await relationsHolding(this, text)).to.not.deep.equal([]);
});

Then('no file of the events table, its TOAST table or their indexes holds the text {string}', async function (this: EventfoldWorld, text: string) {
  expect(await relationsHolding(this, text)).to.deep.equal([]);
});

// ---- a writer and a subscriber in other processes ----

interface Acked {
  stream: string;
  version: number;
  position: number;
  i: number;
}

When('a writer process appends {int} events to {string} while this process scavenges the store', async function (this: EventfoldWorld, appends: number, stream: string) {
  const writer = startChildWithInput(this, 'pg-writer.ts', [databaseUrl(database(this)), '1', String(appends), stream]);
  const acked: Acked[] = [];
  writer.listeners.push((line) => {
    const match = /^acked (\S+) (\d+) (\d+) \d+ (\d+)$/.exec(line);
    if (match) acked.push({ stream: match[1], version: Number(match[2]), position: Number(match[3]), i: Number(match[4]) });
  });
  // The writer is under way before the scavenge starts.
  await writer.next(/^acked /);
  this.memo.scavenge = await this.store!.scavenge();
  await writer.next(/^done$/);
  await exited(writer.child);
  expect(writer.child.exitCode).to.equal(0);
  this.memo.acked = acked;
  this.memo.log = await readAllEvents(this.store!);
});

Then('the {int} appends the writer saw acknowledged read back at the positions and versions they were acknowledged with', function (this: EventfoldWorld, count: number) {
  const acked = this.memo.acked as Acked[];
  const log = this.memo.log as RecordedEvent[];
  expect(acked).to.have.length(count);
  const byPosition = new Map(log.map((event) => [event.position, event]));
  for (const a of acked) {
    const event = byPosition.get(a.position);
    expect({ stream: event?.stream, version: event?.version, data: event?.data }).to.deep.equal({ stream: a.stream, version: a.version, data: { writer: 1, i: a.i } });
  }
});

Then(
  "the subscriber {string} received every kept event's position exactly once, in order: {int} of {string} and {int} of {string}",
  async function (this: EventfoldWorld, _name: string, a: number, streamA: string, b: number, streamB: string) {
    const { child, handled } = this.memo.subscriber as { child: ChildLines; handled: number[] };
    const log = this.memo.log as RecordedEvent[];
    const last = log[log.length - 1].position;
    if (!handled.includes(last)) await child.next(new RegExp(`^handled ${last}$`));
    expect(handled).to.deep.equal(log.map((event) => event.position));
    expect(log.filter((event) => event.stream === streamA)).to.have.length(a);
    expect(log.filter((event) => event.stream === streamB)).to.have.length(b);
    expect(log).to.have.length(a + b);
    const result = this.memo.scavenge as ScavengeResult;
    await this.figures({ name: 'events removed while the other processes ran', value: result.eventsRemoved, unit: 'events' }, { name: 'events the subscriber handled', value: handled.length, unit: 'events' });
  },
);

// ---- a process that slept through the scavenge ----

Given('a second process has the store open and is stopped with SIGSTOP', async function (this: EventfoldWorld) {
  const follower = startChildWithInput(this, 'pg-follower.ts', [databaseUrl(database(this))]);
  await follower.next(/^open$/);
  follower.child.kill('SIGSTOP');
  this.memo.follower = follower;
});

When('the second process is continued and appends 1 event to {string}', async function (this: EventfoldWorld, stream: string) {
  const follower = this.memo.follower as ChildLines;
  follower.child.kill('SIGCONT');
  follower.send(`append ${stream}`);
  const [, version, position] = /^acked (\d+) (\d+)$/.exec(await follower.next(/^acked /))!;
  this.memo.followerAcked = { version: Number(version), position: Number(position) };
});

Then('its append was written at version {int}', async function (this: EventfoldWorld, version: number) {
  const acked = this.memo.followerAcked as { version: number; position: number };
  expect(acked.version).to.equal(version);
  const [row] = await queryDatabase<{ version: string }>(database(this), 'SELECT version FROM eventfold_events WHERE position = $1', [acked.position]);
  expect(Number(row.version)).to.equal(version);
});

Then('the second process reads all events: {int} of {string} and {int} of {string}', async function (this: EventfoldWorld, a: number, streamA: string, b: number, streamB: string) {
  const follower = this.memo.follower as ChildLines;
  follower.send('read');
  const counts = JSON.parse((await follower.next(/^read /)).slice('read '.length));
  expect(counts).to.deep.equal({ [streamA]: a, [streamB]: b });
  follower.child.stdin!.end();
  await exited(follower.child);
  expect(follower.child.exitCode).to.equal(0);
});

// ---- a scavenge killed midway ----

When('a child process scavenges the store and is killed with SIGKILL after its first batch', async function (this: EventfoldWorld) {
  this.memo.keptBefore = await readAllEvents(this.store!);
  const scavenger = startChildWithInput(this, 'pg-scavenge.ts', [databaseUrl(database(this))]);
  const line = await scavenger.next(/^batch \d+$/);
  scavenger.child.kill('SIGKILL');
  await exited(scavenger.child);
  expect(scavenger.child.signalCode).to.equal('SIGKILL');
  await this.figures({ name: 'rows the killed scavenge had deleted', value: Number(line.split(' ')[1]), unit: 'rows' });
});

// ---- the command line ----

When('the operator runs {string} on the database', function (this: EventfoldWorld, command: string) {
  runCli(this, command, databaseUrl(database(this)));
});


When('a plain scavenge and an erasing one are asked for at once', async function (this: EventfoldWorld) {
  const [plain, erasing] = await Promise.all([this.store!.scavenge(), this.store!.scavenge({ erase: true })]);
  expect(plain.eventsRemoved).to.be.greaterThan(0);
  this.memo.scavenge = erasing;
});

// ---- closing during a scavenge ----

When('the store is closed as soon as its scavenge has deleted its first batch', async function (this: EventfoldWorld) {
  const store = this.store!;
  let closing: Promise<void> | undefined;
  const outcome = await store
    .scavenge({
      onProgress: (progress) => {
        if (progress.eventsRemoved > 0) closing ??= store.close();
      },
    })
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  await closing;
  this.memo.closedScavenge = outcome;
});

Then('the scavenge ended without an error, having removed {int} events', function (this: EventfoldWorld, count: number) {
  const outcome = this.memo.closedScavenge as { result?: ScavengeResult; error?: unknown };
  expect(outcome.error, String(outcome.error)).to.equal(undefined);
  expect(outcome.result!.eventsRemoved).to.equal(count);
});

// ---- sessions ended under a scavenge ----

When('the store is scavenged while the server ends every session of the store after its first batch', async function (this: EventfoldWorld) {
  this.memo.keptBefore = await readAllEvents(this.store!);
  let ending: Promise<unknown> | undefined;
  this.memo.scavenge = await this.store!.scavenge({
    onProgress: (progress) => {
      // The store's own sessions (its pool, append and notification connections), not this step's.
      if (progress.eventsRemoved > 0) {
        ending ??= queryDatabase(
          database(this),
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'eventfold' AND pid <> pg_backend_pid()`,
        );
      }
    },
  });
  const [{ count }] = (await ending) as Array<{ count: string }>;
  expect(Number(count), 'sessions ended').to.be.greaterThan(0);
  await this.figures({ name: 'sessions of the store the server ended', value: Number(count), unit: 'sessions' });
});
