import { Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { EventLog, LogAppend, LogAppendOutcome } from '../../src/engine/event-log';
import { ExpectedVersionConflictError, type AppendResult, type EventStore } from '../../src/index';
import { parseExpectation } from '../support/appends';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** The outcomes of the last call that handed several appends to the log. */
const oneCall = scenarioState(() => ({ outcomes: [] as LogAppendOutcome[] }));

/** The log the store's engine talks to (file or PostgreSQL): the interface under test. */
function logOf(store: EventStore): EventLog {
  return (store as unknown as { log: EventLog }).log;
}

When('these appends are handed to the log in one call:', async function (this: EventfoldWorld, table: DataTable) {
  const appends: LogAppend[] = table.hashes().map((row) => ({
    stream: row.stream,
    events: Array.from({ length: Number(row.events) }, (_, i) => ({ type: 'Placed', data: { i } })),
    expectedVersion: parseExpectation(row.expecting),
  }));
  oneCall(this).outcomes = await logOf(this.store!).append(appends);
});

Then('append {int} is written at position {int}, version {int}', function (this: EventfoldWorld, n: number, position: number, version: number) {
  expect(oneCall(this).outcomes[n - 1] as AppendResult).to.deep.equal({ position, version });
});

Then(/^append (\d+) is refused with an ExpectedVersionConflictError saying (?:the current version is (\d+)|the stream has no events)$/, function (this: EventfoldWorld, n: string, current: string | null | undefined) {
  const outcome = oneCall(this).outcomes[Number(n) - 1];
  expect(outcome).to.be.instanceOf(ExpectedVersionConflictError);
  expect((outcome as ExpectedVersionConflictError).actual).to.equal(current == null ? -1 : Number(current));
});

Then('{string} reads back no events', async function (this: EventfoldWorld, stream: string) {
  expect(this.store!.streamVersion(stream)).to.equal(-1);
  const read = [];
  for await (const event of this.store!.readStream(stream)) read.push(event);
  expect(read).to.deep.equal([]);
});

Then('{string} reads back versions {int} to {int} in order', async function (this: EventfoldWorld, stream: string, from: number, to: number) {
  const versions = [];
  for await (const event of this.store!.readStream(stream)) versions.push(event.version);
  expect(versions).to.deep.equal(Array.from({ length: to - from + 1 }, (_, i) => from + i));
});
