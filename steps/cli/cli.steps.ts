import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/eventfold-cli';
import { logDamage } from '../support/log-damage-state';
import type { EventfoldWorld } from '../support/world';

When('the operator runs {string} on the store', function (this: EventfoldWorld, command: string) {
  runCli(this, command, this.storeDir);
});

Given('the operator has run {string} on the store', function (this: EventfoldWorld, command: string) {
  runCli(this, command, this.storeDir);
  expect(this.cli!.status, this.cli!.stderr).to.equal(0);
});

Then('it says {string}', function (this: EventfoldWorld, text: string) {
  expect(this.cli!.stdout).to.contain(text);
});

Then('bench.json holds the ratios batchedAppendVsSqlite and replayVsSqlite, and bench.md the table', function (this: EventfoldWorld) {
  const report = JSON.parse(readFileSync(join(this.storeDir, 'bench.json'), 'utf8'));
  expect(report.ratios.batchedAppendVsSqlite).to.be.a('number').greaterThan(0);
  expect(report.ratios.replayVsSqlite).to.be.a('number').greaterThan(0);
  expect(readFileSync(join(this.storeDir, 'bench.md'), 'utf8')).to.contain('| batched durable appends');
});

When('the operator runs {string} into a folder that does not exist yet', function (this: EventfoldWorld, command: string) {
  expect(existsSync(this.storeDir)).to.equal(false);
  runCli(this, command, this.storeDir);
});

When('the operator runs {string} on a directory that does not exist', function (this: EventfoldWorld, command: string) {
  runCli(this, command, join(this.dir, 'missing'));
});


Then('the command exits with {int} and says {string}', function (this: EventfoldWorld, status: number, text: string) {
  const result = this.cli!;
  expect(result.status, result.stderr).to.equal(status);
  expect(result.stdout + result.stderr).to.contain(text);
});

Then('the output names the segment file and the offset of record {int}', function (this: EventfoldWorld, _n: number) {
  const damage = logDamage(this).damage!;
  const result = this.cli!;
  expect(result.stderr).to.contain(`log/${damage.path.split('/').pop()} at byte offset ${damage.span.offset}`);
});

Then('the command exits with 0 and prints JSON with {int} events, {int} streams and a clean last shutdown', function (this: EventfoldWorld, events: number, streams: number) {
  const result = this.cli!;
  expect(result.status, result.stderr).to.equal(0);
  const info = JSON.parse(result.stdout);
  expect(info).to.include({ events, streams, cleanShutdown: true, healthy: true, firstPosition: 0, lastPosition: events - 1 });
});

Then('the command exits with 0 and prints {int} events of stream {string} with versions {int} and {int}', function (this: EventfoldWorld, count: number, stream: string, v0: number, v1: number) {
  const result = this.cli!;
  expect(result.status, result.stderr).to.equal(0);
  const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(events).to.have.length(count);
  expect(events.map((e) => [e.stream, e.version])).to.deep.equal([[stream, v0], [stream, v1]]);
});
