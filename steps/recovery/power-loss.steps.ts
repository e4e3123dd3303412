import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, type DiskOperation, type PowerLossPolicy, type StoreOptions } from '../../src/index';
import { collect, numberedEvents } from '../support/events';
import { segmentPaths } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { logDirOf } from '../../src/store-layout';

interface Workload {
  appends: number;
  callers: number;
  options: StoreOptions;
}

interface AppendAttempt {
  stream: string;
  count: number;
  acknowledged: boolean;
}

type CutResult = { point: { op: string; path: string }; attempts: AppendAttempt[]; all: Array<{ position: number }>; streams: Map<string, number>; extra: { position: number } };

/** What the steps of a cut-at-every-fsync-point run share. */
const everyCut = scenarioState(() => ({
  workload: undefined as Workload | undefined,
  /** The fsync points of a clean run, in order. */
  fsyncPoints: [] as Array<{ op: DiskOperation; path: string }>,
  results: [] as CutResult[],
}));

const FSYNC_OPS: DiskOperation[] = ['datasync', 'syncDir'];
const DIR = '/store';

/**
 * Runs the workload on `disk`: `callers` loops, each appending to a stream of
 * its own per append (so every append can be checked as a whole), until the
 * loop has made its share of appends or the store fails.
 */
async function runWorkload(disk: SimulatedDisk, workload: Workload, beforeAppends: (disk: SimulatedDisk) => void): Promise<AppendAttempt[]> {
  const store = await EventStore.open(DIR, { ...workload.options, fs: disk });
  beforeAppends(disk);
  const attempts: AppendAttempt[] = [];
  const perCaller = workload.appends / workload.callers;
  await Promise.all(
    Array.from({ length: workload.callers }, async (_, caller) => {
      for (let k = 0; k < perCaller; k++) {
        const attempt = { stream: `caller-${caller}-append-${k}`, count: 1 + ((caller * 7 + k * 3) % 5), acknowledged: false };
        attempts.push(attempt);
        try {
          await store.append(attempt.stream, numberedEvents(attempt.count, k));
          attempt.acknowledged = true;
        } catch {
          return;
        }
      }
    }),
  );
  // The power may also fail during close (it writes the clean-shutdown marker).
  await store.close().catch((error: Error) => {
    if (!disk.isDead) throw error;
  });
  return attempts;
}

Given('a workload of {int} appends of 1 to 5 events from {int} concurrent callers, with segments of {int} KiB', function (this: EventfoldWorld, appends: number, callers: number, kib: number) {
  everyCut(this).workload = { appends, callers, options: { segmentSize: kib * 1024 } };
});

/** Each way the disk may come back; a page write-back is tried with several seeded subsets of the dirty pages at every cut. */
const POLICIES: Record<string, PowerLossPolicy[]> = {
  'drops every unsynced write': ['drop-unsynced'],
  'keeps every unsynced write': ['keep-unsynced'],
  'keeps only half of the last unsynced write': [{ tearLastWriteFraction: 0.5 }],
  'writes back a random subset of the dirty pages, 4 subsets per cut': [1, 2, 3, 4].map((seed) => ({ pageSeed: seed })),
};

When('the power is cut at each of its fsync points in turn and the disk {}', async function (this: EventfoldWorld, keeps: string) {
  const workload = everyCut(this).workload!;
  const policies = POLICIES[keeps];
  expect(policies, `known disk behaviour "${keeps}"`).to.not.equal(undefined);
  // A clean run first, to learn the sequence of fsync points.
  const trace: Array<{ op: DiskOperation; path: string }> = [];
  await runWorkload(new SimulatedDisk(), workload, (disk) => (disk.trace = trace));
  const points = trace.filter((call) => FSYNC_OPS.includes(call.op));
  const results: CutResult[] = [];
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    const sameOpBefore = points.slice(0, i).filter((p) => p.op === point.op).length;
    const disk = new SimulatedDisk();
    const attempts = await runWorkload(disk, workload, (d) => d.inject({ op: point.op, after: sameOpBefore, powerLoss: true }));
    expect(disk.isDead, `the power cut at fsync point ${i} (${point.op} ${point.path}) must have happened`).to.equal(true);
    for (const policy of policies) {
      const after = disk.powerLoss(policy);
      const store = await EventStore.open(DIR, { ...workload.options, fs: after });
      const all = await collect(store.readAll());
      const streams = new Map<string, number>();
      for (const attempt of attempts) streams.set(attempt.stream, (await collect(store.readStream(attempt.stream))).length);
      const extra = await store.append('after-the-cut', numberedEvents(1));
      await store.close();
      results.push({ point, attempts, all, streams, extra });
    }
  }
  everyCut(this).results = results;
  everyCut(this).fsyncPoints = points;
  await this.figures(
    { name: 'fsync points cut', value: points.length, unit: 'points' },
    { name: 'directory fsyncs among them', value: points.filter((p) => p.op === 'syncDir').length, unit: 'points' },
    { name: 'disks reopened after a cut', value: results.length, unit: 'reopens' },
  );
});

Then('after every cut the reopened store holds every acknowledged event', function (this: EventfoldWorld) {
  for (const [i, result] of everyCut(this).results.entries()) {
    for (const attempt of result.attempts.filter((a) => a.acknowledged)) {
      expect(result.streams.get(attempt.stream), `cut ${i} at ${result.point.op} ${result.point.path}: ${attempt.stream}`).to.equal(attempt.count);
    }
  }
});

Then('after every cut each unacknowledged append is either wholly present or wholly absent', function (this: EventfoldWorld) {
  for (const [i, result] of everyCut(this).results.entries()) {
    for (const attempt of result.attempts.filter((a) => !a.acknowledged)) {
      expect([0, attempt.count], `cut ${i}: ${attempt.stream}`).to.include(result.streams.get(attempt.stream));
    }
  }
});

Then('after every cut the positions run from 0 without a gap and the store accepts a new append', function (this: EventfoldWorld) {
  for (const [i, result] of everyCut(this).results.entries()) {
    result.all.forEach((event, index) => expect(event.position, `cut ${i}`).to.equal(index));
    expect(result.extra.position, `cut ${i}`).to.equal(result.all.length);
  }
});

Then('the run had more than {int} fsync points, of files and of directories', function (this: EventfoldWorld, min: number) {
  const points = everyCut(this).fsyncPoints;
  expect(points.length).to.be.greaterThan(min);
  expect(points.some((p) => p.op === 'syncDir')).to.equal(true);
  expect(points.some((p) => p.op === 'datasync')).to.equal(true);
});

Then('no temporary segment file is left in the log directory', async function (this: EventfoldWorld) {
  const names = await this.disk!.readdir(logDirOf(this.storeDir));
  expect(names.filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
});

