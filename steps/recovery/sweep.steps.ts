import { Given, Then, When } from '@cucumber/cucumber';
import { seededRandom } from '../../src/fs/seeded-random';
import { expect } from 'chai';
import { EventfoldError, EventStore, SimulatedDisk } from '../../src/index';
import type { RecordedEvent } from '../../src/index';
import { collect, numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const DIR = '/store';

interface SweepStore {
  disk: SimulatedDisk;
  files: string[];
  events: string[];
  options: { segmentSize: number };
}

type Damage = { kind: 'bit flip' | 'zeroed range' | 'truncation' | 'appended garbage'; file: string; at: number; length: number };

interface Outcome {
  damage: Damage;
  first: 'typed error' | 'intact' | 'intact, with a report' | 'error on read' | 'untyped error' | 'fewer events' | 'changed events';
  detail?: string;
  repair?: 'prefix, reported' | 'typed error' | 'untyped error' | 'not a prefix' | 'loss not reported';
  /** After a repair that kept a prefix: does the repaired store open again, take an append and keep it over the next open? */
  afterRepair?: 'keeps the next append' | string;
}


/** What the corruption sweep's steps share. */
const sweeps = scenarioState(() => ({
  /** The cleanly closed store every damaged copy is cloned from. */
  store: undefined as SweepStore | undefined,
  rounds: 0,
  seed: 0,
  outcomes: [] as Outcome[],
}));

async function filesUnder(disk: SimulatedDisk, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await disk.readdir(dir)) {
    const path = `${dir}/${name}`;
    try {
      disk.peek(path);
      found.push(path);
    } catch {
      found.push(...(await filesUnder(disk, path)));
    }
  }
  return found;
}

/** An event as a reader sees it, as one comparable string. */
function fingerprint(event: RecordedEvent): string {
  return JSON.stringify([event.position, event.stream, event.version, event.type, event.id, event.timestamp, event.data, event.metadata]);
}

/**
 * Ends a sweep fixture: a subscription checkpoints up to `last`, the events
 * are read back as the sweep's reference, the store is closed cleanly, and
 * the fixture is kept with more than `minSegments` segments and a snapshot.
 */
async function closeAsFixture(
  world: EventfoldWorld,
  store: EventStore,
  disk: SimulatedDisk,
  options: { segmentSize: number },
  last: number,
  minSegments: number,
): Promise<{ files: string[] }> {
  const subscription = await store.subscribe('statements', () => undefined, { checkpointEvery: 50 });
  await subscription.waitFor(last);
  await subscription.stop();
  const events = (await collect(store.readAll())).map(fingerprint);
  await store.close();
  const files = await filesUnder(disk, DIR);
  expect(files.filter((f) => f.endsWith('.seg')).length, 'segments').to.be.greaterThan(minSegments);
  expect(files.some((f) => f.includes('/snapshots/')), 'a snapshot').to.equal(true);
  sweeps(world).store = { disk, files, events, options };
  return { files };
}

Given(
  'a cleanly closed store on a simulated disk with {int} events in segments of {int} KiB, a snapshot and a subscription checkpoint',
  async function (this: EventfoldWorld, count: number, kib: number) {
    const disk = new SimulatedDisk();
    const options = { segmentSize: kib * 1024 };
    const store = await EventStore.open(DIR, { ...options, fs: disk });
    // The snapshot covers the first two thirds: the open checks the rest of the log itself.
    for (let i = 0; i < count; i += 3) {
      await store.append(`account-${i % 11}`, numberedEvents(Math.min(3, count - i), i));
      if (i + 3 >= (count * 2) / 3 && i + 3 - 3 < (count * 2) / 3) await store.checkpoint();
    }
    const { files } = await closeAsFixture(this, store, disk, options, count - 1, 1);
    expect(files.some((f) => f.includes('/subscriptions/')), 'a subscription checkpoint').to.equal(true);
  },
);

Given(
  'a cleanly closed store on a simulated disk with {int} events in segments of {int} KiB, scavenged after one stream was deleted for good and one kept only its last 4 events, then a snapshot, {int} more events and a subscription checkpoint',
  async function (this: EventfoldWorld, count: number, kib: number, more: number) {
    const disk = new SimulatedDisk();
    const options = { segmentSize: kib * 1024 };
    const store = await EventStore.open(DIR, { ...options, fs: disk });
    for (let i = 0; i < count; i += 3) await store.append(`account-${i % 11}`, numberedEvents(Math.min(3, count - i), i));
    await store.deleteStream('account-3', { hard: true });
    await store.setStreamMetadata('account-5', { maxCount: 4 });
    const scavenged = await store.scavenge();
    expect(scavenged.segmentsRewritten, 'segments rewritten by the scavenge').to.be.greaterThan(1);
    // The snapshot covers the scavenged segments: the open skips them and the background check reads them.
    await store.checkpoint();
    for (let i = 0; i < more; i += 3) await store.append(`later-${i % 5}`, numberedEvents(Math.min(3, more - i), count + i));
    await closeAsFixture(this, store, disk, options, store.position, 2);
  },
);

function damage(bytes: Buffer, d: Damage): Buffer {
  switch (d.kind) {
    case 'bit flip': {
      const copy = Buffer.from(bytes);
      if (d.at < copy.length) copy[d.at] ^= 1 << d.length;
      return copy;
    }
    case 'zeroed range': {
      const copy = Buffer.from(bytes);
      copy.fill(0, Math.min(d.at, copy.length), Math.min(d.at + d.length, copy.length));
      return copy;
    }
    case 'truncation':
      return Buffer.from(bytes.subarray(0, d.at));
    case 'appended garbage': {
      const garbage = Buffer.alloc(d.length);
      const random = seededRandom(d.at + d.length);
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
      return Buffer.concat([bytes, garbage]);
    }
  }
}

function pickDamage(random: () => number, sweep: SweepStore): Damage {
  const file = sweep.files[Math.floor(random() * sweep.files.length)];
  const size = sweep.disk.peek(file).length;
  const kinds: Damage['kind'][] = ['bit flip', 'zeroed range', 'truncation', 'appended garbage'];
  const kind = kinds[Math.floor(random() * kinds.length)];
  const at = Math.floor(random() * Math.max(1, size));
  if (kind === 'bit flip') return { kind, file, at, length: Math.floor(random() * 8) };
  if (kind === 'zeroed range') return { kind, file, at, length: 1 + Math.floor(random() * 4096) };
  if (kind === 'truncation') return { kind, file, at, length: size - at };
  return { kind, file, at: size, length: 1 + Math.floor(random() * 512) };
}

/** Opens a copy and reads every event; says how it ended. */
async function openAndRead(disk: SimulatedDisk, sweep: SweepStore, repair: 'none' | 'truncate') {
  let store: EventStore | undefined;
  try {
    store = await EventStore.open(DIR, { ...sweep.options, fs: disk, repair });
  } catch (error) {
    return { opened: false as const, error };
  }
  try {
    const events = (await collect(store.readAll())).map(fingerprint);
    return { opened: true as const, events, recovery: store.recovery };
  } catch (error) {
    return { opened: true as const, readError: error };
  } finally {
    await store.close().catch(() => undefined);
  }
}

When(
  /^(\d+) copies of the store each get one damage — a flipped bit, a zeroed range, a truncation or appended garbage — at a random place in one of its files, from seed (\d+)$/,
  function (this: EventfoldWorld, count: string, seed: string) {
    sweeps(this).rounds = Number(process.env.EVENTFOLD_SWEEP_ROUNDS ?? count);
    sweeps(this).seed = Number(seed);
  },
);

When('each damaged copy is opened, and opened again with repair {string} when the first open fails', async function (this: EventfoldWorld, repair: 'truncate') {
  const sweep = sweeps(this).store!;
  const { rounds } = sweeps(this);
  const random = seededRandom(sweeps(this).seed);
  const outcomes: Outcome[] = [];
  const isPrefix = (events: string[]) => events.every((e, i) => e === sweep.events[i]);
  for (let round = 0; round < rounds; round++) {
    const d = pickDamage(random, sweep);
    const copy = sweep.disk.clone();
    copy.overwrite(d.file, damage(copy.peek(d.file), d));
    const first = await openAndRead(copy, sweep, 'none');
    const outcome: Outcome = { damage: d, first: 'intact' };
    if (!first.opened) {
      outcome.first = first.error instanceof EventfoldError ? 'typed error' : 'untyped error';
      outcome.detail = String(first.error);
    } else if (first.readError) {
      outcome.first = first.readError instanceof EventfoldError ? 'error on read' : 'untyped error';
      outcome.detail = String(first.readError);
    } else if (first.events!.length < sweep.events.length) {
      outcome.first = 'fewer events';
    } else if (!isPrefix(first.events!) || first.events!.length !== sweep.events.length) {
      outcome.first = 'changed events';
    } else if (first.recovery!.tornTail || first.recovery!.quarantine || first.recovery!.snapshot.skipped.length > 0) {
      outcome.first = 'intact, with a report';
    }
    if (outcome.first === 'typed error' || outcome.first === 'error on read') {
      const again = await openAndRead(copy, sweep, repair);
      if (!again.opened) outcome.repair = again.error instanceof EventfoldError ? 'typed error' : 'untyped error';
      else if (again.readError) outcome.repair = again.readError instanceof EventfoldError ? 'typed error' : 'untyped error';
      else if (!isPrefix(again.events!)) outcome.repair = 'not a prefix';
      else if (again.events!.length < sweep.events.length && !again.recovery!.quarantine && !again.recovery!.tornTail) outcome.repair = 'loss not reported';
      else outcome.repair = 'prefix, reported';
      if (outcome.repair !== 'prefix, reported') outcome.detail = `${outcome.detail} / repair: ${again.opened ? '' : String(again.error)}`;
      else outcome.afterRepair = await appendAfterRepair(copy, sweep, again.events!);
    }
    outcomes.push(outcome);
  }
  sweeps(this).outcomes = outcomes;
  const count = (f: (o: Outcome) => boolean) => outcomes.filter(f).length;
  await this.figures(
    { name: 'damaged copies opened', value: outcomes.length, unit: 'opens' },
    { name: 'open failed with a typed error', value: count((o) => o.first === 'typed error'), unit: 'opens' },
    { name: 'read failed with a typed error (damage in a segment a snapshot covers)', value: count((o) => o.first === 'error on read'), unit: 'opens' },
    { name: 'all events intact', value: count((o) => o.first === 'intact'), unit: 'opens' },
    { name: 'all events intact, damage reported (e.g. a snapshot passed over)', value: count((o) => o.first === 'intact, with a report'), unit: 'opens' },
    { name: 'repairs that kept a prefix and reported the rest', value: count((o) => o.repair === 'prefix, reported'), unit: 'repairs' },
    { name: 'repairs refused with a typed error', value: count((o) => o.repair === 'typed error'), unit: 'repairs' },
    { name: 'silent loss or change', value: count((o) => ['fewer events', 'changed events', 'untyped error'].includes(o.first) || ['not a prefix', 'loss not reported', 'untyped error'].includes(o.repair ?? '')), unit: 'opens' },
  );
});

/** The repaired store, opened again: it takes one append, and the next open holds what the repair kept plus that append. */
async function appendAfterRepair(disk: SimulatedDisk, sweep: SweepStore, kept: string[]): Promise<string> {
  try {
    const store = await EventStore.open(DIR, { ...sweep.options, fs: disk });
    const appended = await store.append('after-repair', numberedEvents(1, 0));
    await store.close();
    const again = await openAndRead(disk, sweep, 'none');
    if (!again.opened) return `the next open fails: ${String(again.error)}`;
    if (again.readError) return `a read fails: ${String(again.readError)}`;
    const events = again.events!;
    if (events.length !== kept.length + 1 || !kept.every((e, i) => e === events[i])) return `holds ${events.length} events, not the ${kept.length} kept plus the append`;
    if (JSON.parse(events[events.length - 1])[0] !== appended.position) return 'the append is not the last event';
    return 'keeps the next append';
  } catch (error) {
    return String(error);
  }
}

function failures(outcomes: Outcome[], bad: (o: Outcome) => boolean): string {
  return outcomes
    .filter(bad)
    .slice(0, 5)
    .map((o) => `${o.damage.kind} of ${o.damage.length} at ${o.damage.at} in ${o.damage.file}: ${o.first}/${o.repair ?? '-'}/${o.afterRepair ?? '-'} ${o.detail ?? ''}`)
    .join('\n');
}

Then('every damaged file of the store was hit at least {int} times', function (this: EventfoldWorld, min: number) {
  const sweep = sweeps(this).store!;
  const { outcomes } = sweeps(this);
  for (const file of sweep.files) expect(outcomes.filter((o) => o.damage.file === file).length, file).to.be.at.least(min);
});

Then('every open ended in a typed error or a store with all {int} events as appended', function (this: EventfoldWorld, count: number) {
  const { outcomes } = sweeps(this);
  expect(sweeps(this).store!.events).to.have.length(count);
  const bad = (o: Outcome) => !['typed error', 'error on read', 'intact', 'intact, with a report'].includes(o.first);
  expect(outcomes.filter(bad).length, failures(outcomes, bad)).to.equal(0);
});

Then('every repair kept a prefix of the events as appended and reported what it set aside', function (this: EventfoldWorld) {
  const { outcomes } = sweeps(this);
  const bad = (o: Outcome) => o.repair !== undefined && o.repair !== 'prefix, reported' && o.repair !== 'typed error';
  expect(outcomes.filter(bad).length, failures(outcomes, bad)).to.equal(0);
});

Then('no event was ever read back changed', function (this: EventfoldWorld) {
  const { outcomes } = sweeps(this);
  const bad = (o: Outcome) => o.first === 'changed events' || o.repair === 'not a prefix';
  expect(outcomes.filter(bad).length, failures(outcomes, bad)).to.equal(0);
});

Then('every repaired store opens again, takes an append and keeps it over the next open', function (this: EventfoldWorld) {
  const { outcomes } = sweeps(this);
  expect(outcomes.filter((o) => o.afterRepair !== undefined).length, 'repaired copies').to.be.greaterThan(0);
  const bad = (o: Outcome) => o.afterRepair !== undefined && o.afterRepair !== 'keeps the next append';
  expect(outcomes.filter(bad).length, failures(outcomes, bad)).to.equal(0);
});
