import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RecordedEvent } from '../src/index';
import { exited, startCli, type ChildLines } from './support/child-lines';
import { assertGapless } from './support/events';
import { hashTree } from './support/file-hashes';
import { expectAcknowledged, writerAcks, writerReached } from './support/writer-acks';
import type { EventfoldWorld } from './support/world';

const BINARY = join(__dirname, '..', 'dist', 'cli', 'main.js');
type CliResult = { status: number | null; stdout: string; stderr: string };

function runEventfold(args: string[]): CliResult {
  return spawnSync(process.execPath, [BINARY, ...args], { encoding: 'utf8', timeout: 120_000 });
}

When('the operator runs {string} until it has printed {int} events', async function (this: EventfoldWorld, command: string, count: number) {
  await writerReached(this, 0);
  const [name, ...options] = command.replace(/^eventfold\s+/, '').split(/\s+/);
  const reader: ChildLines = startCli(this, [name, this.storeDir, ...options]);
  const lines: string[] = [];
  while (lines.length < count) lines.push(await reader.next(/./));
  reader.child.kill('SIGINT');
  await exited(reader.child);
  this.memo.lines = lines;
  this.memo.readerExit = reader.child.exitCode;
});

Then('each line is one JSON object with position, stream, version, type, data, metadata, id and timestamp', function (this: EventfoldWorld) {
  const events = (this.memo.lines as string[]).map((line) => JSON.parse(line) as RecordedEvent);
  for (const event of events) expect(Object.keys(event)).to.deep.equal(['position', 'stream', 'version', 'type', 'data', 'metadata', 'id', 'timestamp']);
  this.memo.printed = events;
  expect(this.memo.readerExit, 'interrupted, read --follow closes its store and exits 0').to.equal(0);
});

Then('the lines run from position 0 without a gap, with each event the writer acknowledged at its position', function (this: EventfoldWorld) {
  const events = this.memo.printed as RecordedEvent[];
  assertGapless(events);
  const last = events[events.length - 1].position;
  const acks = writerAcks(this).filter((a) => a.position <= last);
  expect(acks.length).to.be.greaterThan(0);
  expectAcknowledged(events, acks, 'read --follow');
});

Then("the command exits with 0 and says the store is open by the writer's pid", function (this: EventfoldWorld) {
  const result = this.memo.cli as CliResult;
  expect(result.status, result.stderr).to.equal(0);
  expect(result.stdout).to.contain(`open now:       yes, open by pid ${this.memo.writerPid} on `);
});

When('the writer is killed with SIGKILL', async function (this: EventfoldWorld) {
  const writer = this.memo.writer as ChildLines;
  writer.child.kill('SIGKILL');
  await exited(writer.child);
});

When('the operator runs {string}, {string} and {string} on the store', function (this: EventfoldWorld, read: string, info: string, verify: string) {
  const commands = [read, info, verify];
  this.memo.hashesBefore = hashTree(this.storeDir);
  this.memo.results = commands.map((command) => {
    const [name, ...options] = command.replace(/^eventfold\s+/, '').split(/\s+/);
    return runEventfold([name, this.storeDir, ...options]);
  });
});

Then('all three exit with 0', function (this: EventfoldWorld) {
  for (const result of this.memo.results as CliResult[]) expect(result.status, result.stderr).to.equal(0);
});

Then('read printed every acknowledged event and nothing of the torn append', function (this: EventfoldWorld) {
  const [read] = this.memo.results as CliResult[];
  const events = read.stdout.trim().split('\n').map((line) => JSON.parse(line) as RecordedEvent);
  assertGapless(events);
  expect(events).to.have.length(this.memo.eventsBeforeTear as number);
  expectAcknowledged(events, writerAcks(this), 'eventfold read');
});

Then('info says {string} and verify says {string}', function (this: EventfoldWorld, infoText: string, verifyText: string) {
  const [, info, verify] = this.memo.results as CliResult[];
  expect(info.stdout).to.contain(infoText);
  expect(verify.stdout).to.contain(verifyText);
});
