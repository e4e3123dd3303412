// Steps of features/postgres: the no-skip race with a transaction held open
// on a connection of the scenario's own, several processes on one database,
// sessions ended and the server restarted under an open store.
import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EventStore, InvalidInputError, NodeFileSystem, ReadOnlyStoreError, type AppendResult, type RecordedEvent } from '../../src/index';
import { startChildWithInput, exited, type ChildLines } from '../support/child-lines';
import { assertGapless, collect, numberedEvents } from '../support/events';
import { LOCK_COUNTER } from '../../src/postgres/postgres-log';
import { database, databaseUrl, queryDatabase, until, restartServer } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { postgresStores, type Held } from './postgres-state';

// Runs before the World's own After (hooks run in reverse order): the scenario's other stores close before its database is dropped.
After(async function (this: EventfoldWorld) {
  for (const store of [postgresStores(this).reader, postgresStores(this).second]) await store?.close().catch(() => undefined);
  await postgresStores(this).held?.client.end().catch(() => undefined);
});

/** This file's own scenarios: several processes at once, a poller, a held append. */
const postgresSteps = scenarioState(() => ({
  /** What each of the processes that opened the empty store at once reported. */
  opens: undefined as string[] | undefined,
  /** An append sent while the position counter was held, and how it settled. */
  pendingAppend: undefined as { pending: Promise<unknown>; settled: { result?: AppendResult; error?: unknown } } | undefined,
  poller: undefined as Poller | undefined,
  writers: undefined as Writers | undefined,
  /** The writer killed while it waited for the counter: how many of its appends it saw acknowledged. */
  victimAcked: undefined as number | undefined,
}));



/** Sessions of this database waiting for the lock of the position counter's row (an append transaction's first step). */
const WAITING_APPENDS = `SELECT pid, application_name FROM pg_stat_activity
  WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = '${LOCK_COUNTER}'`;

Given('a store on PostgreSQL whose log holds {int} events', async function (this: EventfoldWorld, count: number) {
  database(this);
  const store = await this.openStore();
  await store.append('ledger', numberedEvents(count));
});

Given('an empty PostgreSQL database', function (this: EventfoldWorld) {
  database(this);
});

Given("another session's append transaction has taken position {int} and is held open before its commit", async function (this: EventfoldWorld, position: number) {
  const client = new pg.Client({ connectionString: databaseUrl(database(this)) });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  // What a store's append transaction does (src/postgres/SCHEMA.md): take the counter, write at its position. The data: msgpack nil.
  const { rows } = await client.query<{ next: string }>(LOCK_COUNTER);
  await client.query(`SELECT eventfold_write(ARRAY[$1::bigint], ARRAY['held'], ARRAY[0::bigint], ARRAY['Held'], ARRAY[$2], ARRAY[$3::float8], ARRAY['\\xc0'::bytea], ARRAY[NULL::bytea])`, [
    rows[0].next,
    randomUUID(),
    Date.now(),
  ]);
  expect(Number(rows[0].next)).to.equal(position);
  postgresStores(this).held = { client, position } satisfies Held;
});

When('the store appends {int} event(s) to {string} while that transaction is still open', function (this: EventfoldWorld, count: number, stream: string) {
  const settled: { result?: AppendResult; error?: unknown } = {};
  const pending = this.store!.append(stream, numberedEvents(count)).then(
    (result) => (settled.result = result),
    (error: unknown) => (settled.error = error),
  );
  postgresSteps(this).pendingAppend = { pending, settled };
});

Then('that append waits for the position counter', async function (this: EventfoldWorld) {
  await until(this, WAITING_APPENDS, [], (rows) => rows.length === 1);
  const { settled } = postgresSteps(this).pendingAppend!;
  expect(settled, 'the append settled while the held transaction still holds the counter').to.deep.equal({});
});

/** What a reader in another store finds from `from` on: nothing, or the held append's event and then the late one. */
Then(/^a reader polling all events from position (\d+) finds (none|positions \d+ and \d+)$/, async function (this: EventfoldWorld, from: string, found: string) {
  const reader = await readerStore(this);
  const events = await collect(reader.readAll({ from: Number(from) }));
  if (found === 'none') {
    expect(events.map((e) => e.position)).to.deep.equal([]);
    return;
  }
  const [first, second] = found.match(/\d+/g)!.map(Number);
  expect(events.map((e) => [e.position, e.stream])).to.deep.equal([
    [first, 'held'],
    [second, 'late'],
  ]);
});

/** A second store on the same database: another process's view of the log. */
async function readerStore(world: EventfoldWorld): Promise<EventStore> {
  postgresStores(world).reader ??= await EventStore.open(databaseUrl(database(world)));
  return postgresStores(world).reader!;
}

When('the held transaction commits', async function (this: EventfoldWorld) {
  const held = postgresStores(this).held!;
  await held.client.query('COMMIT');
  await held.client.end();
});

When('the held transaction rolls back', async function (this: EventfoldWorld) {
  const held = postgresStores(this).held!;
  await held.client.query('ROLLBACK');
  await held.client.end();
});

/** The held append's outcome; "written once": the log has no gap and holds that one event of "late" once. */
Then(/^the store's append is acknowledged at position (\d+)(, written once)?$/, async function (this: EventfoldWorld, position: string, writtenOnce: string | null | undefined) {
  const { pending, settled } = postgresSteps(this).pendingAppend!;
  await pending;
  expect(settled.error).to.equal(undefined);
  expect(settled.result!.position).to.equal(Number(position));
  if (!writtenOnce) return;
  const events = await collect(this.store!.readAll());
  assertGapless(events);
  expect(events.filter((e) => e.stream === 'late')).to.have.length(1);
});

When('the server ends the session of that append', async function (this: EventfoldWorld) {
  const ended = await queryDatabase<{ ended: boolean }>(database(this), `SELECT pg_terminate_backend(pid, 10000) AS ended FROM (${WAITING_APPENDS}) AS waiting`);
  expect(ended.map((row) => row.ended)).to.deep.equal([true]);
});

When('the PostgreSQL server restarts', function (this: EventfoldWorld) {
  restartServer();
});

Given('subscription {string} of the store has handled positions {int} to {int}', async function (this: EventfoldWorld, name: string, from: number, to: number) {
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (event) => void handled.push(event.position), { from: from - 1 });
  await subscription.waitFor(to);
  this.subscriptions.clear();
  this.subscriptions.set(name, { subscription, handled });
});

// ---- several processes ----

When('{int} processes open it as a store at the same moment', async function (this: EventfoldWorld, count: number) {
  const children = Array.from({ length: count }, () => startChildWithInput(this, 'pg-open-on-go.ts', [databaseUrl(database(this))]));
  await Promise.all(children.map((child) => child.next(/^ready /)));
  for (const child of children) child.send('go');
  postgresSteps(this).opens = await Promise.all(children.map((child) => child.next(/^(opened|error) /)));
});

Then('each of the {int} processes opened the empty store', function (this: EventfoldWorld, count: number) {
  expect(postgresSteps(this).opens).to.deep.equal(Array.from({ length: count }, () => 'opened -1'));
});

Then("the database holds eventfold's schema at version {int}, created once", async function (this: EventfoldWorld, version: number) {
  expect(await queryDatabase(database(this), 'SELECT version FROM eventfold_schema')).to.deep.equal([{ version }]);
  expect(await queryDatabase(database(this), 'SELECT next_position::int AS next FROM eventfold_log')).to.deep.equal([{ next: 0 }]);
});

interface Acked {
  stream: string;
  version: number;
  position: number;
  writer: number;
  i: number;
}

interface Writers {
  children: ChildLines[];
  acked: Acked[];
  perWriter: number[];
}

Given('a subscriber process {string} that checkpoints every {int} events', function (this: EventfoldWorld, name: string, every: number) {
  const subscriber = startChildWithInput(this, 'consume.ts', [databaseUrl(database(this)), name, String(every)]);
  const handled: number[] = [];
  subscriber.listeners.push((line) => {
    const match = /^handled (\d+)$/.exec(line);
    if (match) handled.push(Number(match[1]));
  });
  postgresStores(this).subscriber = { child: subscriber, handled };
});

When(
  /^(\d+) writer processes append to the streams (.+) with expected versions, (\d+) appends each$/,
  async function (this: EventfoldWorld, count: string, streamList: string, appends: string) {
    const streams = [...streamList.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    const writers: Writers = { children: [], acked: [], perWriter: [] };
    for (let w = 1; w <= Number(count); w++) {
      // The application name tells the writers' server sessions apart.
      const url = `${databaseUrl(database(this))}?application_name=writer-${w}`;
      const child = startChildWithInput(this, 'pg-writer.ts', ['--pause-after=10', url, String(w), appends, ...streams]);
      writers.perWriter[w] = 0;
      child.listeners.push((line) => {
        const match = /^acked (\S+) (\d+) (\d+) (\d+) (\d+)$/.exec(line);
        if (!match) return;
        writers.acked.push({ stream: match[1], version: Number(match[2]), position: Number(match[3]), writer: Number(match[4]), i: Number(match[5]) });
        writers.perWriter[w]++;
      });
      writers.children.push(child);
    }
    postgresSteps(this).writers = writers;
    postgresSteps(this).poller = pollAll(this);
    // Every writer is under way (10 appends acknowledged, then paused until told to go on) before anything happens to one of them.
    await Promise.all(writers.children.map((child) => child.next(/^paused$/)));
  },
);

interface Poller {
  seen: number[];
  stop(): Promise<void>;
}

/**
 * A reader polling `readAll({ from: last + 1 })` in a loop on a store of its
 * own, while the writers commit; `stop()` ends it after one last poll.
 */
function pollAll(world: EventfoldWorld): Poller {
  const seen: number[] = [];
  let stopping = false;
  const running = (async () => {
    const reader = await EventStore.open(databaseUrl(database(world)));
    try {
      for (;;) {
        const last = stopping;
        for await (const event of reader.readAll({ from: seen.length === 0 ? 0 : seen[seen.length - 1] + 1 })) seen.push(event.position);
        if (last) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await reader.close();
    }
  })();
  return {
    seen,
    stop: async () => {
      stopping = true;
      await running;
    },
  };
}

When('writer {int} is killed with SIGKILL while its append transaction waits for the position counter', async function (this: EventfoldWorld, victim: number) {
  const writers = postgresSteps(this).writers!;
  // Hold the counter, as a long append transaction of another process would.
  const holder = new pg.Client({ connectionString: databaseUrl(database(this)) });
  holder.on('error', () => undefined);
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT next_position FROM eventfold_log FOR UPDATE');
  // Only now do the writers go on: none can finish while the counter is held, so the victim's next append must wait for it.
  for (const writer of writers.children) writer.child.stdin!.write('go\n');
  await until(this, WAITING_APPENDS, [], (rows) => rows.some((row) => row.application_name === `writer-${victim}`));
  const child = writers.children[victim - 1].child;
  child.kill('SIGKILL');
  await exited(child);
  expect(child.signalCode).to.equal('SIGKILL');
  postgresSteps(this).victimAcked = writers.perWriter[victim];
  await holder.query('COMMIT');
  await holder.end();
});

When('the other {int} writers finish', async function (this: EventfoldWorld, count: number) {
  const writers = postgresSteps(this).writers!;
  const others = writers.children.filter((child) => child.child.signalCode === null);
  expect(others).to.have.length(count);
  await Promise.all(others.map((child) => child.next(/^done$/)));
  await Promise.all(others.map((child) => exited(child.child)));
  for (const child of others) expect(child.child.exitCode).to.equal(0);
  const store = await this.openStore();
  postgresStores(this).log = await collect(store.readAll());
  await postgresSteps(this).poller!.stop();
});

Then('a reader in this process that polled all events from its last position + 1 all along saw every position of the log once, in order', function (this: EventfoldWorld) {
  const log = postgresStores(this).log!;
  expect(postgresSteps(this).poller!.seen).to.deep.equal(log.map((event) => event.position));
});

Then('every append a writer saw acknowledged is in the log once, at the position and version it was acknowledged with, and nothing else is', function (this: EventfoldWorld) {
  const writers = postgresSteps(this).writers!;
  const log = postgresStores(this).log!;
  const copies = new Map<string, number>();
  for (const event of log) {
    const { writer, i } = event.data as { writer: number; i: number };
    copies.set(`${writer}/${i}`, (copies.get(`${writer}/${i}`) ?? 0) + 1);
  }
  for (const [key, n] of copies) expect(n, `append ${key} is in the log ${n} times`).to.equal(1);
  for (const acked of writers.acked) {
    const event = log[acked.position];
    expect({ stream: event?.stream, version: event?.version, data: event?.data }).to.deep.equal({ stream: acked.stream, version: acked.version, data: { writer: acked.writer, i: acked.i } });
  }
  // The killed writer's append never got past the counter: its transaction ended with its connection.
  expect(log.length - writers.acked.length, 'events in the log no writer saw acknowledged').to.equal(0);
});

Then("the log's positions are {int} to its end without a gap, and every stream's versions count from {int} without a gap", function (this: EventfoldWorld, first: number, firstVersion: number) {
  const log = postgresStores(this).log!;
  expect(log[0].position).to.equal(first);
  assertGapless(log);
  const versions = new Map<string, number>();
  for (const event of log) {
    const expected = versions.get(event.stream) ?? firstVersion;
    expect(event.version, `stream ${event.stream} at position ${event.position}`).to.equal(expected);
    versions.set(event.stream, expected + 1);
  }
});

Then('the subscriber {string} received every position of the log exactly once, in order', async function (this: EventfoldWorld, _name: string) {
  const { child, handled } = postgresStores(this).subscriber!;
  const log = postgresStores(this).log!;
  const last = log.length - 1;
  if (!handled.includes(last)) await child.next(new RegExp(`^handled ${last}$`));
  expect(handled).to.deep.equal(log.map((event) => event.position));
  const writers = postgresSteps(this).writers!;
  await this.figures(
    { name: 'events in the log', value: log.length, unit: 'events' },
    { name: 'acknowledged appends', value: writers.acked.length, unit: 'appends' },
    { name: 'appends of the killed writer acknowledged before the kill', value: postgresSteps(this).victimAcked!, unit: 'appends' },
  );
});

// ---- projections in every process ----

Given(/^a second store (?:on the same database|opens the database) with the same projection$/, async function (this: EventfoldWorld) {
  postgresStores(this).second = await EventStore.open(databaseUrl(database(this)), { projections: this.storeOptions.projections });
});

When(/^the second store deposits (\d+) to "([^"]+)"(?: expecting version (\d+))?$/, async function (this: EventfoldWorld, amount: string, stream: string, expected?: string) {
  await postgresStores(this).second!.append(stream, [{ type: 'Deposited', data: { amount: Number(amount) } }], { expectedVersion: expected == null ? 'any' : Number(expected) });
});

When('{string} deposits {int} expecting version {int}', async function (this: EventfoldWorld, stream: string, amount: number, expected: number) {
  await this.capture(() => this.store!.append(stream, [{ type: 'Deposited', data: { amount } }], { expectedVersion: expected }));
});

/** Takes in what the other instance appended: in the second store, or in both. */
When(/^(both stores refresh|the second store refreshes)$/, async function (this: EventfoldWorld, which: string) {
  if (which === 'both stores refresh') await this.store!.refresh();
  await postgresStores(this).second!.refresh();
});

Then("the second store's {string} state says {string} holds {int}", function (this: EventfoldWorld, name: string, stream: string, amount: number) {
  expect((postgresStores(this).second!.state(name) as Record<string, number>)[stream]).to.equal(amount);
});

Given('{string} has made {int} deposits of {int}', async function (this: EventfoldWorld, stream: string, count: number, amount: number) {
  await this.store!.append(stream, Array.from({ length: count }, () => ({ type: 'Deposited', data: { amount } })));
});

Then('it started from the snapshot at position {int} and folded {int} events', function (this: EventfoldWorld, position: number, replayed: number) {
  const { recovery } = postgresStores(this).second!;
  expect(recovery.snapshot.position).to.equal(position);
  expect(recovery.eventsReplayed).to.equal(replayed);
});

// ---- opening ----

/** A value of each file-only option that a directory's store would accept. */
const FILE_ONLY_SAMPLES: Record<string, unknown> = {
  segmentSize: 1024 * 1024,
  repair: 'truncate',
  fs: new NodeFileSystem(),
  verifyOnOpen: 'full',
  onCorruption: () => undefined,
};

When('the store is opened with the file-only option {word}', async function (this: EventfoldWorld, option: string) {
  await this.capture(() => this.openStore({ [option]: FILE_ONLY_SAMPLES[option] }));
});

Then('the database holds no eventfold table', async function (this: EventfoldWorld) {
  expect(await queryDatabase(database(this), "SELECT tablename FROM pg_tables WHERE tablename LIKE 'eventfold%'")).to.deep.equal([]);
});

When('a read-only store is opened on the database', async function (this: EventfoldWorld) {
  await this.capture(async () => {
    postgresStores(this).reader = await EventStore.open(databaseUrl(database(this)), { readOnly: true });
  });
});

Then('the read-only store reads {int} events', async function (this: EventfoldWorld, count: number) {
  expect(this.lastError).to.equal(undefined);
  expect(await collect(postgresStores(this).reader!.readAll())).to.have.length(count);
});

Then('its append is rejected with a ReadOnlyStoreError, and the log still holds {int} events', async function (this: EventfoldWorld, count: number) {
  const reader = postgresStores(this).reader!;
  const error = await Promise.resolve()
    .then(() => reader.append('late', numberedEvents(1)))
    .then(() => undefined, (e: unknown) => e);
  expect(error).to.be.instanceOf(ReadOnlyStoreError);
  expect(await queryDatabase(database(this), 'SELECT count(*)::int AS n FROM eventfold_events')).to.deep.equal([{ n: count }]);
});

Given(/^the schema's version row is set to (\d+), as (?:a newer eventfold|something that is not eventfold) would$/, async function (this: EventfoldWorld, text: string) {
  const version = Number(text);
  await queryDatabase(database(this), 'UPDATE eventfold_schema SET version = $1', [version]);
});

Then("the schema's version row still says {int}", async function (this: EventfoldWorld, version: number) {
  expect(await queryDatabase(database(this), 'SELECT version FROM eventfold_schema')).to.deep.equal([{ version }]);
});
