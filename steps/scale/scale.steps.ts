import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { followChild, startChild } from '../support/children';
import { expectedTotals, scaleWorkload } from '../support/scale-workload';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const DEFAULT_SCALE = 1_000_000;
/** Measured: about 119 bytes of log per event of this workload; the margin covers snapshots. */
const DISK_BYTES_PER_EVENT = 140;
const ONE_GIB = 1024 ** 3;
/**
 * The working processes run with V8's old space capped at 768 MiB: left alone,
 * V8 lets garbage pile up far past that on a 24 GiB machine, and the peak RSS
 * would measure its laziness instead of eventfold's live memory. A live set
 * that outgrew the cap would crash the process and fail the scenario.
 */
const WORKER_NODE_OPTIONS = ['--max-old-space-size=768'];
/** The long steps run for minutes at full scale; the default step timeout is for ordinary steps. */
const LONG = { timeout: 3 * 60 * 60 * 1000 };

interface ScaleRun {
  events: number;
  dir: string;
  figures: Record<string, number>;
  lastAcknowledged?: number;
  resumedAt?: number;
}

/** The scale run of this scenario: its size, directory and measured figures. */
const scaleRuns = scenarioState(() => ({ run: undefined as ScaleRun | undefined }));

function run(world: EventfoldWorld): ScaleRun {
  return scaleRuns(world).run!;
}

/** Runs the scale child to its end; resolves with its figures (its last stdout line). */
async function runChild(world: EventfoldWorld, mode: 'append' | 'verify', onLine: (line: string) => void = () => undefined): Promise<Record<string, number>> {
  const { dir, events } = run(world);
  const child = startChild(world, 'scale-run.ts', [mode, dir, String(events)], WORKER_NODE_OPTIONS);
  child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
  let last = '';
  const exit = await followChild(child, (line) => {
    last = line;
    onLine(line);
  });
  expect(exit.code, `the ${mode} process failed: ${exit.stderr}`).to.equal(0);
  return JSON.parse(last) as Record<string, number>;
}

Given('a run at the scale EVENTFOLD_SCALE sets, {int} events unless it is set', async function (this: EventfoldWorld, fallback: number) {
  expect(fallback).to.equal(DEFAULT_SCALE);
  const events = Number(process.env.EVENTFOLD_SCALE ?? fallback);
  const workload = scaleWorkload(events);
  const dir = join(this.dir, 'scale-store');
  mkdirSync(dir, { recursive: true });
  scaleRuns(this).run = { events, dir, figures: {} };
  await this.figures({ name: 'scale run', value: events, unit: 'events' }, { name: 'streams', value: workload.streams, unit: 'streams' });
});

Given('there is enough free disk for that scale', function (this: EventfoldWorld) {
  const { dir, events } = run(this);
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  const needed = events * DISK_BYTES_PER_EVENT;
  if (free < needed) {
    throw new Error(`Not enough free disk for ${events.toLocaleString('en-US')} events: they need about ${(needed / 1e9).toFixed(1)} GB, ${(free / 1e9).toFixed(1)} GB is free at ${dir}`);
  }
});

When(/^a separate process appends all the events, (\d+) per append, ([\d,]+) appends in flight$/, LONG, async function (this: EventfoldWorld, _per: string, _inFlight: string) {
  const scale = run(this);
  scale.figures = { ...scale.figures, ...(await runChild(this, 'append')) };
  await this.figures({ name: 'durable append rate (10-event appends, with a projection)', value: Math.round(scale.figures.appendRate), unit: 'events/s' });
});

When('a separate process appends the events and is killed with SIGKILL as soon as half of them are acknowledged', LONG, async function (this: EventfoldWorld) {
  const scale = run(this);
  const half = Math.ceil(scale.events / 2);
  // The child reports the acknowledgement that reaches half at once (not at its next periodic report), so the kill lands there.
  const child = startChild(this, 'scale-run.ts', ['append', scale.dir, String(scale.events), String(half)], WORKER_NODE_OPTIONS);
  child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
  const exit = await followChild(child, (line) => {
    const match = /^ack (\d+)$/.exec(line);
    if (!match) return;
    scale.lastAcknowledged = Number(match[1]);
    if (scale.lastAcknowledged + 1 >= half && child.exitCode === null) child.kill('SIGKILL');
  });
  expect(exit.signal, `the appender should have been killed half-way: ${exit.stderr}`).to.equal('SIGKILL');
  const acknowledged = scale.lastAcknowledged! + 1;
  expect(acknowledged).to.be.at.least(half);
  await this.figures(
    { name: 'acknowledged before SIGKILL', value: acknowledged, unit: 'events' },
    { name: 'share of the events acknowledged when killed', value: Number(((100 * acknowledged) / scale.events).toFixed(1)), unit: '%' },
  );
});

When('a new process reopens the store and appends the rest', LONG, async function (this: EventfoldWorld) {
  const scale = run(this);
  scale.figures = {
    ...scale.figures,
    ...(await runChild(this, 'append', (line) => {
      const match = /^resumed (\d+)/.exec(line);
      if (match) scale.resumedAt = Number(match[1]);
    })),
  };
});

Then('the reopened store held every event acknowledged before the kill', function (this: EventfoldWorld) {
  const scale = run(this);
  expect(scale.resumedAt, 'the reopened store reports where it resumed').to.be.a('number');
  expect(scale.resumedAt).to.be.at.least(scale.lastAcknowledged! + 1);
});

When('a separate process reopens the store and reads every event back', LONG, async function (this: EventfoldWorld) {
  const scale = run(this);
  scale.figures = { ...scale.figures, ...(await runChild(this, 'verify')) };
  const f = scale.figures;
  await this.figures(
    { name: 'reopen after a clean close (with its snapshot)', value: Math.round(f.reopenMs), unit: 'ms' },
    { name: 'read-back rate (readAllPages, CRC + decode + compare)', value: Math.round(f.readRate), unit: 'events/s' },
    { name: 'bytes on disk', value: f.bytesOnDisk, unit: 'bytes' },
    { name: 'peak RSS, appending process', value: Math.round(f.appendPeakRssBytes / 2 ** 20), unit: 'MiB' },
    { name: 'peak RSS, verifying process', value: Math.round(f.verifyPeakRssBytes / 2 ** 20), unit: 'MiB' },
  );
});

Then('every event came back once, in position order, with the content that was written', function (this: EventfoldWorld) {
  const { figures, events } = run(this);
  expect(figures.eventsRead).to.equal(events);
});

Then('{int} sampled streams read back whole, in version order, with readStream', function (this: EventfoldWorld, streams: number) {
  const { figures, events } = run(this);
  expect(figures.sampledStreams).to.equal(streams);
  expect(figures.sampledEvents).to.equal(streams * (events / scaleWorkload(events).streams));
});

Then('the {string} projection holds the expected count, amount sum and withdrawals', function (this: EventfoldWorld, _name: string) {
  const { figures, events } = run(this);
  const want = expectedTotals(events);
  expect({ events: figures.totalsEvents, amount: figures.totalsAmount, withdrawals: figures.totalsWithdrawals }).to.deep.equal(want);
});

Then('the peak memory of each working process stayed under {int} GiB', function (this: EventfoldWorld, gib: number) {
  const { figures } = run(this);
  expect(figures.appendPeakRssBytes).to.be.greaterThan(0);
  expect(figures.appendPeakRssBytes).to.be.lessThan(gib * ONE_GIB);
  expect(figures.verifyPeakRssBytes).to.be.lessThan(gib * ONE_GIB);
});
