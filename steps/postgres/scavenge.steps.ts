// Steps of features/postgres/scavenge.feature: what a scavenge leaves in the
// events table and its files, and the processes around it (a writer, a
// subscriber, one that slept through it, one killed in the middle of it).
import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import pg from 'pg';
import { ErasureIncompleteError, StoreClosedError, type RecordedEvent, type ScavengeResult } from '../../src/index';
import { exited, startChildWithInput, type ChildLines } from '../support/child-lines';
import { readAllEvents } from '../support/events';
import { database, databaseUrl, queryDatabase } from '../support/postgres';
import { eventsTableSize, relationsHolding, type TableSize } from '../support/postgres-tables';
import { runCli } from '../support/eventfold-cli';
import { scavenges } from '../support/scavenge-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { postgresStores } from './postgres-state';

async function rowsOf(world: EventfoldWorld, where: string, values: unknown[] = []): Promise<number> {
  const [{ n }] = await queryDatabase<{ n: string }>(database(world), `SELECT count(*) AS n FROM eventfold_events WHERE ${where}`, values);
  return Number(n);
}

/** Rows of one stream, or of every stream but the store's own. */
Then(/^the events table holds (\d+) rows? of (the application's events|"[^"]+")$/, async function (this: EventfoldWorld, count: string, of: string) {
  const rows = of.startsWith('"') ? await rowsOf(this, 'stream = $1', [of.slice(1, -1)]) : await rowsOf(this, `stream NOT LIKE '$%'`);
  expect(rows).to.equal(Number(count));
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
  const before = scavenges(this).tableBefore!;
  const now = await eventsTableSize(this);
  await sizeFigures(this, before, now);
  expect(now.heap).to.be.at.least((before.heap * share) / 100);
});

Then("the events table's heap grew by less than {int}% since before the scavenge", async function (this: EventfoldWorld, growth: number) {
  const before = scavenges(this).tableBefore!;
  const now = await eventsTableSize(this);
  await sizeFigures(this, before, now);
  expect(now.heap).to.be.below(before.heap * (1 + growth / 100));
});

Then('the events table with its indexes takes between {int}% and {int}% of its size before', async function (this: EventfoldWorld, low: number, high: number) {
  const before = scavenges(this).tableBefore!;
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

/** This file's own scenarios: other processes beside a scavenge, a session holding an old snapshot, a scavenge cut short. */
const postgresScavenge = scenarioState(() => ({
  /** The appends the writer process saw acknowledged while this process scavenged. */
  acked: undefined as Acked[] | undefined,
  /** A process stopped (SIGSTOP) through a scavenge, and the append it made once continued. */
  follower: undefined as ChildLines | undefined,
  followerAcked: undefined as { version: number; position: number } | undefined,
  /** A child scavenger held after its first batch. */
  heldScavenger: undefined as ChildLines | undefined,
  /** How the erasing scavenge beside an old snapshot ended. */
  erasing: undefined as { result?: ScavengeResult; error?: unknown } | undefined,
  /** The other session holding a snapshot older than the deletions. */
  otherSession: undefined as { client: pg.Client; pid: number } | undefined,
}));

When('a writer process appends {int} events to {string} while this process scavenges the store', async function (this: EventfoldWorld, appends: number, stream: string) {
  const writer = startChildWithInput(this, 'pg-writer.ts', [databaseUrl(database(this)), '1', String(appends), stream]);
  const acked: Acked[] = [];
  writer.listeners.push((line) => {
    const match = /^acked (\S+) (\d+) (\d+) \d+ (\d+)$/.exec(line);
    if (match) acked.push({ stream: match[1], version: Number(match[2]), position: Number(match[3]), i: Number(match[4]) });
  });
  // The writer is under way before the scavenge starts.
  await writer.next(/^acked /);
  scavenges(this).scavenge = await this.store!.scavenge();
  await writer.next(/^done$/);
  await exited(writer.child);
  expect(writer.child.exitCode).to.equal(0);
  postgresScavenge(this).acked = acked;
  postgresStores(this).log = await readAllEvents(this.store!);
});

Then('the {int} appends the writer saw acknowledged read back at the positions and versions they were acknowledged with', function (this: EventfoldWorld, count: number) {
  const acked = postgresScavenge(this).acked!;
  const log = postgresStores(this).log!;
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
    const { child, handled } = postgresStores(this).subscriber!;
    const log = postgresStores(this).log!;
    const last = log[log.length - 1].position;
    if (!handled.includes(last)) await child.next(new RegExp(`^handled ${last}$`));
    expect(handled).to.deep.equal(log.map((event) => event.position));
    expect(log.filter((event) => event.stream === streamA)).to.have.length(a);
    expect(log.filter((event) => event.stream === streamB)).to.have.length(b);
    expect(log).to.have.length(a + b);
    const result = scavenges(this).scavenge!;
    await this.figures({ name: 'events removed while the other processes ran', value: result.eventsRemoved, unit: 'events' }, { name: 'events the subscriber handled', value: handled.length, unit: 'events' });
  },
);

// ---- a process that slept through the scavenge ----

Given('a second process has the store open and is stopped with SIGSTOP', async function (this: EventfoldWorld) {
  const follower = startChildWithInput(this, 'pg-follower.ts', [databaseUrl(database(this))]);
  await follower.next(/^open$/);
  follower.child.kill('SIGSTOP');
  postgresScavenge(this).follower = follower;
});

When('the second process is continued and appends 1 event to {string}', async function (this: EventfoldWorld, stream: string) {
  const follower = postgresScavenge(this).follower!;
  follower.child.kill('SIGCONT');
  follower.send(`append ${stream}`);
  const [, version, position] = /^acked (\d+) (\d+)$/.exec(await follower.next(/^acked /))!;
  postgresScavenge(this).followerAcked = { version: Number(version), position: Number(position) };
});

Then('its append was written at version {int}', async function (this: EventfoldWorld, version: number) {
  const acked = postgresScavenge(this).followerAcked!;
  expect(acked.version).to.equal(version);
  const [row] = await queryDatabase<{ version: string }>(database(this), 'SELECT version FROM eventfold_events WHERE position = $1', [acked.position]);
  expect(Number(row.version)).to.equal(version);
});

Then('the second process reads all events: {int} of {string} and {int} of {string}', async function (this: EventfoldWorld, a: number, streamA: string, b: number, streamB: string) {
  const follower = postgresScavenge(this).follower!;
  follower.send('read');
  const counts = JSON.parse((await follower.next(/^read /)).slice('read '.length));
  expect(counts).to.deep.equal({ [streamA]: a, [streamB]: b });
  follower.child.stdin!.end();
  await exited(follower.child);
  expect(follower.child.exitCode).to.equal(0);
});

// ---- a scavenge killed midway ----

When('a child process scavenges the store and is killed with SIGKILL after its first batch', async function (this: EventfoldWorld) {
  scavenges(this).keptBefore = await readAllEvents(this.store!);
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
  scavenges(this).scavenge = erasing;
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
  scavenges(this).stopped = outcome;
});

// ---- sessions ended under a scavenge ----

When('the store is scavenged while the server ends every session of the store after its first batch', async function (this: EventfoldWorld) {
  scavenges(this).keptBefore = await readAllEvents(this.store!);
  let ending: Promise<unknown> | undefined;
  scavenges(this).scavenge = await this.store!.scavenge({
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

// ---- statistics, older snapshots and snapshots left by a killed scavenge (erasure) ----

Given('the server has analyzed the events table, as autovacuum does after that many new rows', async function (this: EventfoldWorld) {
  await queryDatabase(database(this), 'ANALYZE eventfold_events');
});

/** The columns of the events table whose statistics (pg_stats: most common values, histogram) hold `text`. */
async function statisticsHolding(world: EventfoldWorld, text: string): Promise<string[]> {
  const stats = await queryDatabase<{ attname: string; v: string }>(
    database(world),
    `SELECT attname, coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') AS v FROM pg_stats WHERE tablename = 'eventfold_events'`,
  );
  const hex = Buffer.from(text).toString('hex');
  return stats.filter((s) => s.v.includes(text) || s.v.includes(hex)).map((s) => s.attname);
}

Then('no statistic of the events table holds the text {string}', async function (this: EventfoldWorld, text: string) {
  expect(await statisticsHolding(this, text)).to.deep.equal([]);
});

Then("no row of the server's statistics catalog holds the text {string}", async function (this: EventfoldWorld, text: string) {
  // The catalog's file itself (a dropped statistic's old row version stays in it until VACUUM FULL pg_statistic).
  await queryDatabase(database(this), 'CHECKPOINT');
  const [{ path }] = await queryDatabase<{ path: string }>(database(this), `SELECT pg_relation_filepath('pg_statistic') AS path`);
  const [{ bytes }] = await queryDatabase<{ bytes: Buffer }>(database(this), 'SELECT pg_read_binary_file($1) AS bytes', [path]);
  expect(bytes.includes(Buffer.from(text)), `pg_statistic (${path}) holds "${text}"`).to.equal(false);
});

Given('the schema is made a version 1 schema whose payload statistics the server has sampled', async function (this: EventfoldWorld) {
  const db = database(this);
  await queryDatabase(db, 'UPDATE eventfold_schema SET version = 1');
  await queryDatabase(db, 'ALTER TABLE eventfold_events ALTER COLUMN data SET STATISTICS -1, ALTER COLUMN metadata SET STATISTICS -1');
  await queryDatabase(db, 'ANALYZE eventfold_events');
  expect(await statisticsHolding(this, scavenges(this).marker!), 'the version 1 schema has statistics of the payloads').to.include('data');
});

Given('another session of the database reads in a REPEATABLE READ transaction it keeps open', async function (this: EventfoldWorld) {
  const other = new pg.Client({ connectionString: databaseUrl(database(this)) });
  other.on('error', () => undefined);
  await other.connect();
  await other.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await other.query('SELECT count(*) FROM eventfold_events');
  const [{ pid }] = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
  postgresScavenge(this).otherSession = { client: other, pid };
});

When('the store is scavenged with erase while that session stays open', async function (this: EventfoldWorld) {
  postgresScavenge(this).erasing = await this.store!.scavenge({ erase: true }).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
});

Then('the scavenge failed with an ErasureIncompleteError naming that session', function (this: EventfoldWorld) {
  const { result, error } = postgresScavenge(this).erasing!;
  expect(result, 'the erasing scavenge reported success').to.equal(undefined);
  expect(error).to.be.instanceOf(ErasureIncompleteError);
  const { pid } = postgresScavenge(this).otherSession!;
  expect((error as ErasureIncompleteError).message).to.include(`session pid ${pid} `).and.include('not complete');
});

When('the other session ends its transaction', async function (this: EventfoldWorld) {
  const { client } = postgresScavenge(this).otherSession!;
  await client.query('COMMIT');
  await client.end();
});

Then('the snapshots table holds {int} rows', async function (this: EventfoldWorld, count: number) {
  const [{ n }] = await queryDatabase<{ n: number }>(database(this), 'SELECT count(*)::int AS n FROM eventfold_snapshots');
  expect(n).to.equal(count);
});

// ---- a retention change while a scavenge in another process waits between batches ----

When('a child process scavenges the store and waits after its first batch', async function (this: EventfoldWorld) {
  const scavenger = startChildWithInput(this, 'pg-scavenge.ts', [databaseUrl(database(this)), 'hold']);
  await scavenger.next(/^batch \d+$/);
  postgresScavenge(this).heldScavenger = scavenger;
});

When('the child process goes on scavenging and finishes', async function (this: EventfoldWorld) {
  const scavenger = postgresScavenge(this).heldScavenger!;
  scavenger.send('go');
  await scavenger.next(/^finished \d+$/);
  scavenger.child.stdin!.end();
  await exited(scavenger.child);
  expect(scavenger.child.exitCode).to.equal(0);
});

// ---- a scavenging machine whose clock runs ahead ----

When('a child process whose clock runs {int} hours ahead scavenges the store', async function (this: EventfoldWorld, hours: number) {
  const scavenger = startChildWithInput(this, 'pg-scavenge.ts', [databaseUrl(database(this)), `clock-ahead-hours=${hours}`]);
  const [, removed] = /^finished (\d+)$/.exec(await scavenger.next(/^finished \d+$/))!;
  scavenger.child.stdin!.end();
  await exited(scavenger.child);
  expect(scavenger.child.exitCode).to.equal(0);
  await this.figures({ name: 'events the scavenge removed', value: Number(removed), unit: 'events' });
});
