// Steps of features/postgres/acknowledged-exactly.feature: what one process
// knows or misses (another process's append it has not heard of, a commit
// whose connection is lost, a deletion whose session ends) never changes
// what it acknowledges. Every race is set up with real sessions: a
// transaction or table lock held by a session of the scenario's own, a
// server session ended with pg_terminate_backend, a link cut at COMMIT.
import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EventStore, StorageError, type AppendResult, type ExpectedVersion, type Subscription } from '../../src/index';
import { LOCK_COUNTER } from '../../src/postgres/postgres-log';
import { pack, unpack } from '../../src/postgres/payload';
import { SYSTEM_STREAM } from '../../src/lifecycle/stream-metadata';
import { CuttableLink } from '../support/cuttable-link';
import { numberedEvents } from '../support/events';
import { database, databaseUrl, queryDatabase, until } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { postgresStores } from './postgres-state';

interface Settled<T> {
  pending: Promise<unknown>;
  result?: T;
  error?: unknown;
}

/** This file's own scenarios: appends and deletions through a cuttable link or beside a held session, snapshots of a second store, a late subscription. */
const acknowledgedSteps = scenarioState(() => ({
  /** The last append sent, and how it settled. */
  lastAppend: undefined as Settled<AppendResult> | undefined,
  /** The appends store "X" sent through its cuttable link, in order, and how each settled. */
  acknowledgedByX: undefined as Array<{ stream: string; id?: string; settled: Settled<AppendResult> }> | undefined,
  storeX: undefined as EventStore | undefined,
  link: undefined as CuttableLink | undefined,
  /** A hard delete sent while another session locked the streams table, that session, and how the delete settled. */
  deletion: undefined as Settled<void> | undefined,
  heldStreams: undefined as pg.Client | undefined,
  /** The position of the snapshot the second store wrote, and the instance started from it. */
  snapshotPosition: undefined as number | undefined,
  third: undefined as EventStore | undefined,
  /** The subscription this store started, and the positions it handled. */
  subscription: undefined as Subscription | undefined,
  handled: undefined as number[] | undefined,
}));

function settle<T>(promise: Promise<T>): Settled<T> {
  const settled: Settled<T> = { pending: Promise.resolve() };
  settled.pending = promise.then(
    (result) => (settled.result = result),
    (error: unknown) => (settled.error = error),
  );
  return settled;
}



async function sideSession(world: EventfoldWorld): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl(database(world)) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

// Runs before the World's own After: the scenario's other stores, sessions and link end before its database is dropped.
After(async function (this: EventfoldWorld) {
  for (const store of [postgresStores(this).second, acknowledgedSteps(this).third, acknowledgedSteps(this).storeX]) await store?.close().catch(() => undefined);
  await acknowledgedSteps(this).heldStreams?.end().catch(() => undefined);
  await acknowledgedSteps(this).subscription?.stop().catch(() => undefined);
  await acknowledgedSteps(this).link?.close();
});

Given('a store on an empty PostgreSQL database', async function (this: EventfoldWorld) {
  database(this);
  await this.openStore();
});

/**
 * Another process's append as eventfold_write makes it (src/postgres/SCHEMA.md),
 * but without its notification: the store learns of it only when it asks the database.
 */
async function appendUnannounced(world: EventfoldWorld, stream: string, events: Array<{ type: string; id: string }>): Promise<number> {
  const client = await sideSession(world);
  try {
    await client.query('BEGIN');
    const next = Number((await client.query<{ next: string }>(LOCK_COUNTER)).rows[0].next);
    const versions = await client.query<{ version: string }>('SELECT version FROM eventfold_streams WHERE stream = $1', [stream]);
    const firstVersion = versions.rows.length === 0 ? 0 : Number(versions.rows[0].version) + 1;
    for (const [i, event] of events.entries()) {
      await client.query('INSERT INTO eventfold_events (position, stream, version, type, id, timestamp_ms, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)', [
        next + i,
        stream,
        firstVersion + i,
        event.type,
        event.id,
        Date.now(),
        pack({ amount: 1 }),
      ]);
    }
    await client.query(
      `INSERT INTO eventfold_streams (stream, version, first_position) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET version = excluded.version`,
      [stream, firstVersion + events.length - 1, next],
    );
    await client.query('UPDATE eventfold_log SET next_position = $1', [next + events.length]);
    await client.query('COMMIT');
    return next;
  } finally {
    await client.end();
  }
}

// ---- snapshots ----

Given('a second store on the database that takes a snapshot every {int} events', async function (this: EventfoldWorld, every: number) {
  postgresStores(this).second = await EventStore.open(databaseUrl(database(this)), { projections: this.storeOptions.projections, snapshotEvery: every });
});

When('the second store makes {int} deposits of {int} to {string}, one at a time', async function (this: EventfoldWorld, count: number, amount: number, stream: string) {
  for (let i = 0; i < count; i++) await postgresStores(this).second!.append(stream, [{ type: 'Deposited', data: { amount } }]);
});

When('the second store has stored its snapshot', async function (this: EventfoldWorld) {
  await until(this, 'SELECT id FROM eventfold_snapshots', [], (rows) => rows.length > 0);
});

Then('the stored snapshot is at position {int}', async function (this: EventfoldWorld, position: number) {
  const rows = await queryDatabase<{ position: string }>(database(this), 'SELECT position FROM eventfold_snapshots');
  expect(rows.map((row) => Number(row.position))).to.deep.equal([position]);
  acknowledgedSteps(this).snapshotPosition = position;
});

Then('a new instance starts from it, folds {int} events and says {string} holds {int}', async function (this: EventfoldWorld, folded: number, stream: string, amount: number) {
  const third = await EventStore.open(databaseUrl(database(this)), { projections: this.storeOptions.projections });
  acknowledgedSteps(this).third = third;
  expect(third.recovery.snapshot.position).to.equal(acknowledgedSteps(this).snapshotPosition);
  expect(third.recovery.eventsReplayed).to.equal(folded);
  expect((third.state('balances') as Record<string, number>)[stream]).to.equal(amount);
});

// ---- idempotent retries ----

Given(
  'another process appended {string} with id {string} to {string} at position {int}, a notification this store has not received',
  async function (this: EventfoldWorld, type: string, id: string, stream: string, position: number) {
    expect(await appendUnannounced(this, stream, [{ type, id }])).to.equal(position);
  },
);

Given('another process appended {int} events to {string}, a notification this store has not received', async function (this: EventfoldWorld, count: number, stream: string) {
  await appendUnannounced(
    this,
    stream,
    Array.from({ length: count }, () => ({ type: 'Deposited', id: randomUUID() })),
  );
});

function expectation(text: string): ExpectedVersion {
  const named: Record<string, ExpectedVersion> = { any: 'any', stream_exists: 'stream_exists', 'no stream': 'no_stream', no_stream: 'no_stream' };
  return named[text] ?? Number(text);
}

When(/^the store appends "([^"]+)" with id "([^"]+)" to "([^"]+)" expecting (any|stream_exists|no_stream|\d+)$/, async function (this: EventfoldWorld, type: string, id: string, stream: string, expected: string) {
  const settled = settle(this.store!.append(stream, [{ type, id, data: { amount: 1 } }], { expectedVersion: expectation(expected) }));
  await settled.pending;
  acknowledgedSteps(this).lastAppend = settled;
});

Then('that append resolves with position {int} and version {int}', function (this: EventfoldWorld, position: number, version: number) {
  const settled = acknowledgedSteps(this).lastAppend!;
  expect(settled.error).to.equal(undefined);
  expect(settled.result).to.deep.equal({ position, version });
});

Then('{string} holds {string} once', async function (this: EventfoldWorld, stream: string, id: string) {
  const rows = await queryDatabase(database(this), 'SELECT position FROM eventfold_events WHERE stream = $1 AND id = $2', [stream, id]);
  expect(rows).to.have.length(1);
});

// ---- a commit whose connection is lost ----

Given('a store {string} whose connection to the server passes through a link that can be cut', async function (this: EventfoldWorld, _name: string) {
  const url = databaseUrl(database(this));
  const link = await CuttableLink.open(url);
  acknowledgedSteps(this).link = link;
  acknowledgedSteps(this).storeX = await EventStore.open(link.urlThrough(url));
  acknowledgedSteps(this).acknowledgedByX = [];
});

Given('another session holds the position counter in an open transaction', async function (this: EventfoldWorld) {
  const client = await sideSession(this);
  await client.query('BEGIN');
  const next = Number((await client.query<{ next: string }>(LOCK_COUNTER)).rows[0].next);
  // Committed by "the held transaction commits" (postgres.steps.ts).
  postgresStores(this).held = { client, position: next };
});

function appendOnX(world: EventfoldWorld, stream: string, events: Array<{ type: string; id?: string; data?: unknown }>, expectedVersion: ExpectedVersion): void {
  const settled = settle(acknowledgedSteps(world).storeX!.append(stream, events, { expectedVersion }));
  acknowledgedSteps(world).acknowledgedByX!.push({ stream, id: events[0].id, settled });
}

Given('{string} appends {int} event to {string}, which waits for the position counter', async function (this: EventfoldWorld, _name: string, count: number, stream: string) {
  appendOnX(this, stream, numberedEvents(count), 'any');
  await until(this, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = $1`, [LOCK_COUNTER], (rows) => rows.length === 1);
});

Given(
  '{string} appends {string} with id {string} to {string} expecting any, and a payment to {string} expecting no stream',
  function (this: EventfoldWorld, _name: string, type: string, id: string, stream: string, payments: string) {
    appendOnX(this, stream, [{ type, id, data: { amount: 1 } }], 'any');
    appendOnX(this, payments, [{ type: 'PaymentTaken', data: { amount: 100 } }], 'no_stream');
  },
);

Given('the link of {string} holds back the second commit it carries', function (this: EventfoldWorld, _name: string) {
  acknowledgedSteps(this).link!.holdCommit(2);
});

When("the link holds back the commit of {string}'s group of {string} and {string}", async function (this: EventfoldWorld, _name: string, _first: string, _second: string) {
  await acknowledgedSteps(this).link!.commitHeld();
  // The first commit the link let through was the warm-up's: it is acknowledged; the group's two appends are not.
  const [warmup, ...group] = acknowledgedSteps(this).acknowledgedByX!;
  await warmup.settled.pending;
  expect(warmup.settled.error).to.equal(undefined);
  for (const { settled } of group) expect(settled.result ?? settled.error).to.equal(undefined);
});

When("the link ends {string}'s session on the server without telling {string}", async function (this: EventfoldWorld, _name: string, _again: string) {
  await acknowledgedSteps(this).link!.endServerSide();
});

When('the link is cut on the side of {string}', async function (this: EventfoldWorld, _name: string) {
  acknowledgedSteps(this).link!.cutStoreSide();
  for (const { settled } of acknowledgedSteps(this).acknowledgedByX!) await settled.pending;
});

Then('every append {string} saw acknowledged is in the database at its position and version', async function (this: EventfoldWorld, _name: string) {
  const appends = acknowledgedSteps(this).acknowledgedByX!;
  for (const { stream, id, settled } of appends) {
    expect(settled.error, `the append to "${stream}"`).to.equal(undefined);
    const rows = await queryDatabase<{ stream: string; version: string; id: string }>(database(this), 'SELECT stream, version, id FROM eventfold_events WHERE position = $1', [settled.result!.position]);
    expect(
      rows.map((row) => ({ stream: row.stream, version: Number(row.version), ...(id ? { id: row.id } : {}) })),
      `what position ${settled.result!.position} holds`,
    ).to.deep.equal([{ stream, version: settled.result!.version, ...(id ? { id } : {}) }]);
  }
});

Then('{string} holds {int} event at version {int}', async function (this: EventfoldWorld, stream: string, count: number, version: number) {
  const rows = await queryDatabase<{ version: string }>(database(this), 'SELECT version FROM eventfold_events WHERE stream = $1', [stream]);
  expect(rows.map((row) => Number(row.version))).to.deep.equal(Array.from({ length: count }, (_, i) => version + i));
});

// ---- a hard delete whose session ends ----

Given('another session locks the streams table', async function (this: EventfoldWorld) {
  const client = await sideSession(this);
  acknowledgedSteps(this).heldStreams = client;
  await client.query('BEGIN');
  await client.query('LOCK TABLE eventfold_streams IN EXCLUSIVE MODE');
});

When('the store deletes {string} for good', function (this: EventfoldWorld, stream: string) {
  acknowledgedSteps(this).deletion = settle(this.store!.deleteStream(stream, { hard: true }));
});

When('the server ends the session of that deletion while it waits for the streams table', async function (this: EventfoldWorld) {
  const [{ pid }] = await until(
    this,
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'SELECT eventfold_write(%'`,
    [],
    (rows) => rows.length === 1,
  );
  const [{ ended }] = await queryDatabase<{ ended: boolean }>(database(this), 'SELECT pg_terminate_backend($1, 10000) AS ended', [pid]);
  expect(ended).to.equal(true);
});

When('the other session releases the streams table', async function (this: EventfoldWorld) {
  await acknowledgedSteps(this).heldStreams!.query('ROLLBACK');
  await acknowledgedSteps(this).deletion!.pending;
});

Then('the deletion resolves', function (this: EventfoldWorld) {
  expect(acknowledgedSteps(this).deletion!.error).to.equal(undefined);
});

Then('the deletion is rejected with a StorageError', function (this: EventfoldWorld) {
  expect(acknowledgedSteps(this).deletion!.error).to.be.instanceOf(StorageError);
});

Then('the database holds {int} deletion(s) of {string}', async function (this: EventfoldWorld, count: number, stream: string) {
  const rows = await queryDatabase<{ data: Buffer }>(database(this), 'SELECT data FROM eventfold_events WHERE stream = $1', [SYSTEM_STREAM]);
  const deletions = rows.map((row) => unpack(row.data) as { stream: string; deleted?: string }).filter((change) => change.stream === stream && change.deleted === 'hard');
  expect(deletions).to.have.length(count);
});

Then('the store appends {int} event to {string} at version {int}', async function (this: EventfoldWorld, count: number, stream: string, version: number) {
  const result = await this.store!.append(stream, numberedEvents(count));
  expect(result.version).to.equal(version);
});

// ---- a subscription resumed in a process that is behind ----

Given('subscription {string} stored its checkpoint at position {int} in another process', async function (this: EventfoldWorld, name: string, position: number) {
  await queryDatabase(database(this), 'INSERT INTO eventfold_checkpoints (name, position) VALUES ($1, $2)', [name, position]);
});

When('the store subscribes {string}', async function (this: EventfoldWorld, name: string) {
  const handled: number[] = [];
  acknowledgedSteps(this).handled = handled;
  acknowledgedSteps(this).subscription = await this.store!.subscribe(name, (event) => {
    handled.push(event.position);
  });
});

When('the store appends {int} event to {string}', async function (this: EventfoldWorld, count: number, stream: string) {
  await this.store!.append(stream, numberedEvents(count));
});

Then('subscription {string} was not reset and handled only position {int}', async function (this: EventfoldWorld, _name: string, position: number) {
  const subscription = acknowledgedSteps(this).subscription!;
  await subscription.waitFor(position);
  expect(subscription.checkpointReset).to.equal(null);
  expect(acknowledgedSteps(this).handled).to.deep.equal([position]);
});
