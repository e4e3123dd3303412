import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { RecordedEvent } from '../../src/index';
import { exited, startCli, type ChildLines } from '../support/child-lines';
import { runEventfold } from '../support/eventfold-cli';
import { assertGapless } from '../support/events';
import { rememberFiles } from '../support/file-hashes';
import { expectAcknowledged, writerAcks, writerChild, writerLines, writerReached } from '../support/writer-acks';
import { scenarioState } from '../support/scenario-state';
import type { CliRun, EventfoldWorld } from '../support/world';

/** What the steps running the CLI beside a writer share (the writer itself is in support/writer-acks.ts: the read-only steps start it). */
const alongside = scenarioState(() => ({
  /** What `read --follow` printed, line by line and parsed, and how it exited. */
  lines: [] as string[],
  printed: [] as RecordedEvent[],
  readerExit: null as number | null,
  /** The results of read, info and verify, in that order. */
  results: [] as CliRun[],
}));

When('the operator runs {string} until it has printed {int} events', async function (this: EventfoldWorld, command: string, count: number) {
  await writerReached(this, 0);
  const [name, ...options] = command.replace(/^eventfold\s+/, '').split(/\s+/);
  const reader: ChildLines = startCli(this, [name, this.storeDir, ...options]);
  const lines: string[] = [];
  while (lines.length < count) lines.push(await reader.next(/./));
  reader.child.kill('SIGINT');
  await exited(reader.child);
  alongside(this).lines = lines;
  alongside(this).readerExit = reader.child.exitCode;
});

Then('each line is one JSON object with position, stream, version, type, data, metadata, id and timestamp', function (this: EventfoldWorld) {
  const events = alongside(this).lines.map((line) => JSON.parse(line) as RecordedEvent);
  for (const event of events) expect(Object.keys(event)).to.deep.equal(['position', 'stream', 'version', 'type', 'data', 'metadata', 'id', 'timestamp']);
  alongside(this).printed = events;
  expect(alongside(this).readerExit, 'interrupted, read --follow closes its store and exits 0').to.equal(0);
});

Then('the lines run from position 0 without a gap, with each event the writer acknowledged at its position', function (this: EventfoldWorld) {
  const events = alongside(this).printed;
  assertGapless(events);
  const last = events[events.length - 1].position;
  const acks = writerAcks(this).filter((a) => a.position <= last);
  expect(acks.length).to.be.greaterThan(0);
  expectAcknowledged(events, acks, 'read --follow');
});

Then("the command exits with 0 and says the store is open by the writer's pid", function (this: EventfoldWorld) {
  const result = this.cli!;
  expect(result.status, result.stderr).to.equal(0);
  expect(result.stdout).to.contain(`open now:       yes, open by pid ${writerChild(this).pid} on `);
});

When('the writer is killed with SIGKILL', async function (this: EventfoldWorld) {
  const writer = writerLines(this);
  writer.child.kill('SIGKILL');
  await exited(writer.child);
});

When('the operator runs {string}, {string} and {string} on the store', function (this: EventfoldWorld, read: string, info: string, verify: string) {
  const commands = [read, info, verify];
  rememberFiles(this, this.storeDir);
  alongside(this).results = commands.map((command) => {
    const [name, ...options] = command.replace(/^eventfold\s+/, '').split(/\s+/);
    return runEventfold([name, this.storeDir, ...options]);
  });
});

Then('all three exit with 0', function (this: EventfoldWorld) {
  for (const result of alongside(this).results) expect(result.status, result.stderr).to.equal(0);
});

Then('read printed every acknowledged event and nothing of the torn append', function (this: EventfoldWorld) {
  const [read] = alongside(this).results;
  const events = read.stdout.trim().split('\n').map((line) => JSON.parse(line) as RecordedEvent);
  assertGapless(events);
  expect(events).to.have.length(this.eventsBeforeTear!);
  expectAcknowledged(events, writerAcks(this), 'eventfold read');
});

Then('info says {string} and verify says {string}', function (this: EventfoldWorld, infoText: string, verifyText: string) {
  const [, info, verify] = alongside(this).results;
  expect(info.stdout).to.contain(infoText);
  expect(verify.stdout).to.contain(verifyText);
});
