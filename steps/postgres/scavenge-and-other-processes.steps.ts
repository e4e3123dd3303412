// Steps of features/postgres/scavenge.feature about the other processes that
// have the store open while one scavenges: a second process with a
// projection (steps/children/pg-projection.ts) whose states and snapshots
// must let go of what the scavenge removed, without a reopen.
import { Then, When, Given } from '@cucumber/cucumber';
import { expect } from 'chai';
import { exited, startChildWithInput, type ChildLines } from '../support/child-lines';
import { database, databaseUrl, queryDatabase } from '../support/postgres';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const second = scenarioState(() => ({ process: undefined as ChildLines | undefined, checkpoint: undefined as number | undefined }));
/** What each of the child scavengers that ran at once removed. */
const removedAtOnce = scenarioState(() => ({ byScavenger: [] as number[] }));

function secondProcess(world: EventfoldWorld): ChildLines {
  const child = second(world).process;
  if (!child) throw new Error('no second process: start it first ("a second process keeps a projection …")');
  return child;
}

async function stateOf(child: ChildLines): Promise<{ count: number; marked: number }> {
  child.send('state');
  const [, count, marked] = /^state (\d+) (\d+)$/.exec(await child.next(/^state /))!;
  return { count: Number(count), marked: Number(marked) };
}

Given(
  "a second process keeps a projection of the events' notes, counting those holding {string}, with a snapshot every {int} events",
  async function (this: EventfoldWorld, marker: string, every: number) {
    const child = startChildWithInput(this, 'pg-projection.ts', [databaseUrl(database(this)), String(every), marker]);
    await child.next(/^open$/);
    second(this).process = child;
  },
);

Then("the second process's projection counts {int} events, {int} of their notes holding the text", async function (this: EventfoldWorld, count: number, marked: number) {
  expect(await stateOf(secondProcess(this))).to.deep.equal({ count, marked });
});

Then(
  "the second process's projection comes to {int} events, {int} of their notes holding the text, without a reopen",
  async function (this: EventfoldWorld, count: number, marked: number) {
    // It takes in the scavenge's record when the server notifies it, and rebuilds then: asked until it has (the step's timeout bounds the wait).
    const child = secondProcess(this);
    let state = await stateOf(child);
    let asked = 1;
    while (state.count !== count) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      state = await stateOf(child);
      asked++;
    }
    expect(state).to.deep.equal({ count, marked });
    await this.figures({ name: 'times the state was asked for before the rebuild showed', value: asked, unit: 'asks' });
  },
);

When('the second process appends {int} events to {string}', async function (this: EventfoldWorld, count: number, stream: string) {
  const child = secondProcess(this);
  child.send(`append ${stream} ${count}`);
  await child.next(/^appended /);
});

When('the second process takes a checkpoint', async function (this: EventfoldWorld) {
  const child = secondProcess(this);
  child.send('checkpoint');
  second(this).checkpoint = Number(/^checkpoint (\d+)$/.exec(await child.next(/^checkpoint /))![1]);
});

Then('no snapshot row holds the text {string}', async function (this: EventfoldWorld, text: string) {
  const rows = await queryDatabase<{ id: string }>(database(this), `SELECT id FROM eventfold_snapshots WHERE position(convert_to($1, 'UTF8') IN projections) > 0`, [text]);
  expect(rows.map((row) => Number(row.id)), 'snapshots holding the text').to.deep.equal([]);
});

Then("the snapshots table holds the second process's checkpoint", async function (this: EventfoldWorld) {
  const position = second(this).checkpoint;
  expect(position, 'no checkpoint was taken').to.be.a('number');
  const rows = await queryDatabase<{ n: number }>(database(this), 'SELECT count(*)::int AS n FROM eventfold_snapshots WHERE position = $1', [position]);
  expect(rows[0].n).to.equal(1);
});

// ---- what the open reports, and the store's own rows ----

Then('the open reports {int} events recovered, the last at position {int}, as many as the events table holds', async function (this: EventfoldWorld, events: number, last: number) {
  const { recovery } = this.store!;
  const [{ n }] = await queryDatabase<{ n: number }>(database(this), 'SELECT count(*)::int AS n FROM eventfold_events');
  expect({ eventsRecovered: recovery.eventsRecovered, lastPosition: recovery.lastPosition, rows: n }).to.deep.equal({ eventsRecovered: events, lastPosition: last, rows: events });
});

Then('the events table holds {int} row of type {string} and {int} row of type {string}', async function (this: EventfoldWorld, a: number, typeA: string, b: number, typeB: string) {
  const rows = await queryDatabase<{ type: string; n: number }>(database(this), 'SELECT type, count(*)::int AS n FROM eventfold_events WHERE type IN ($1, $2) GROUP BY type ORDER BY type', [typeA, typeB]);
  const counts = Object.fromEntries(rows.map((row) => [row.type, row.n]));
  expect({ [typeA]: counts[typeA] ?? 0, [typeB]: counts[typeB] ?? 0 }).to.deep.equal({ [typeA]: a, [typeB]: b });
});

// ---- a row lost below the newest scavenge record ----

When('the row of {string} at version {int} is lost from the events table', async function (this: EventfoldWorld, stream: string, version: number) {
  // As a server that lost a committed row would leave it: gone, and counted nowhere.
  const rows = await queryDatabase(database(this), 'DELETE FROM eventfold_events WHERE stream = $1 AND version = $2 RETURNING position', [stream, version]);
  expect(rows).to.have.length(1);
});

Then(/^the events table misses (\d+) rows? that no scavenge deleted$/, async function (this: EventfoldWorld, count: string) {
  // The query SCHEMA.md ("Holes, and the trust they rest on") gives operators.
  const [{ lost }] = await queryDatabase<{ lost: number }>(
    database(this),
    'SELECT (l.next_position - r.rows_deleted - (SELECT count(*) FROM eventfold_events))::int AS lost FROM eventfold_log l, eventfold_removals r',
  );
  expect(lost).to.equal(Number(count));
});

// ---- two scavengers at once ----

When(
  'two child processes scavenge the store at once, while the second process appends {int} events to {string}',
  async function (this: EventfoldWorld, count: number, stream: string) {
    const scavengers = [0, 1].map(() => startChildWithInput(this, 'pg-scavenge.ts', [databaseUrl(database(this)), 'through']));
    const child = secondProcess(this);
    child.send(`append ${stream} ${count}`);
    const removed = removedAtOnce(this).byScavenger;
    for (const scavenger of scavengers) {
      removed.push(Number(/^finished (\d+)$/.exec(await scavenger.next(/^finished \d+$/))![1]));
      scavenger.child.stdin!.end();
      await exited(scavenger.child);
      expect(scavenger.child.exitCode).to.equal(0);
    }
    await child.next(/^appended /);
    await this.figures({ name: 'events the first scavenger removed', value: removed[0], unit: 'events' }, { name: 'events the second scavenger removed', value: removed[1], unit: 'events' });
  },
);

Then('the two scavenges removed {int} events between them', function (this: EventfoldWorld, count: number) {
  const removed = removedAtOnce(this).byScavenger;
  expect(removed).to.have.length(2);
  expect(removed[0] + removed[1]).to.equal(count);
});

// ---- a scavenge that fails midway in the process with the projection ----

When('the second process scavenges the store and its progress callback throws {string} after the first batch', async function (this: EventfoldWorld, message: string) {
  const child = secondProcess(this);
  child.send('scavenge-failing');
  // The callback's own error, as on the file log (not wrapped in a StorageError).
  expect(await child.next(/^scavenge /)).to.equal(`scavenge rejected ${message}`);
});

When('the second process closes its store', async function (this: EventfoldWorld) {
  const child = secondProcess(this);
  child.child.stdin!.end();
  await exited(child.child);
  expect(child.child.exitCode, 'the second process failed').to.equal(0);
});
