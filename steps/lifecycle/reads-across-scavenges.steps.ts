import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, type RecordedEvent, type StoreOptions } from '../../src/index';
import { collect } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * Reads held while two scavenges run back to back
 * (features/lifecycle/reads-across-scavenges.feature). A read is held at a
 * chosen disk read (the read waits inside the file handle) or between two
 * events it returns (the reader does not ask for the next one): both
 * happen at the same point on every run and machine, without timing.
 */
const DIR = '/store';
const OPTIONS: StoreOptions = { segmentSize: 4096 };

interface HeldRead {
  /** Where it was held: "disk read 7" or "event 50". */
  at: string;
  /** Segments the two scavenges rewrote while it was held. */
  rewritten: [number, number];
  /** The events it returned, or why it failed. */
  events?: RecordedEvent[];
  failure?: string;
}

const reads = scenarioState(() => ({
  /** The closed store every run starts from (each run works on a clone). */
  base: undefined as SimulatedDisk | undefined,
  stream: '',
  /** Every event of the stream as stored, by version. */
  stored: [] as RecordedEvent[],
  runs: [] as HeldRead[],
}));

Given(
  'a store on a simulated disk with segments of 4 KiB, where {string} has {int} events between those of {string}, {string} and {string}, {string} deleted and scavenged before the store was opened again',
  async function (this: EventfoldWorld, stream: string, count: number, gone1: string, gone2: string, gone3: string, _scavenged: string) {
    const disk = new SimulatedDisk();
    const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
    const gone = [gone1, gone2, gone3];
    for (let i = 0; i < count; i++) {
      await store.append(gone[i % 3], [{ type: 'Gone', data: { i, pad: 'x'.repeat(40) } }]);
      await store.append(stream, [{ type: 'Kept', id: `${stream}-${i}`, data: { i } }]);
    }
    await store.deleteStream(gone1);
    expect((await store.scavenge()).segmentsRewritten, 'the first scavenge rewrote segments').to.be.greaterThan(3);
    const stored = await collect(store.readStream(stream));
    await store.close();
    Object.assign(reads(this), { base: disk, stream, stored });
  },
);

/** A gate inside every file handle's read: `arm(n)` holds the n-th read from then on until `release()`. */
function gateReads(disk: SimulatedDisk) {
  let left = 0;
  let release: () => void = () => undefined;
  let onHeld: () => void = () => undefined;
  const open = disk.open.bind(disk);
  disk.open = async (...args: Parameters<SimulatedDisk['open']>) => {
    const handle = await open(...args);
    const read = handle.read.bind(handle);
    handle.read = async (...readArgs: Parameters<typeof read>) => {
      if (left > 0 && --left === 0) {
        const released = new Promise<void>((resolve) => (release = resolve));
        onHeld();
        await released;
      }
      return read(...readArgs);
    };
    return handle;
  };
  return {
    /** Resolves when the n-th read from now is held. */
    arm(n: number): Promise<void> {
      left = n;
      return new Promise<void>((resolve) => (onHeld = resolve));
    },
    release: () => release(),
  };
}

type ReadKind = (store: EventStore, stream: string) => AsyncIterable<RecordedEvent>;

const KINDS: Record<string, ReadKind> = {
  '"keep" forward': (store, stream) => store.readStream(stream),
  '"keep" backward': (store, stream) => store.readStream(stream, { direction: 'backward' }),
  '"keep" forward from version 150': (store, stream) => store.readStream(stream, { from: 150 }),
  'the whole log': (store) => store.readAll(),
};

/** Deletes the two streams one after the other, each followed by a scavenge: the segments rewritten by each. */
async function twoScavenges(store: EventStore, first: string, second: string): Promise<[number, number]> {
  await store.deleteStream(first);
  const a = (await store.scavenge()).segmentsRewritten;
  await store.deleteStream(second);
  const b = (await store.scavenge()).segmentsRewritten;
  return [a, b];
}

/** Reads to the end; at `holdAfter` events (if given) it waits for `hold` before asking for the next one. */
async function readAll(events: AsyncIterable<RecordedEvent>, holdAfter: number | undefined, hold: () => Promise<void>): Promise<RecordedEvent[]> {
  const read: RecordedEvent[] = [];
  for await (const event of events) {
    read.push(event);
    if (read.length === holdAfter) await hold();
  }
  return read;
}

When(
  'a read of {} is held at each of its disk reads in turn, and at every {int}th event it returns, while {string} is deleted and scavenged and then {string} is',
  async function (this: EventfoldWorld, what: string, every: number, first: string, second: string) {
    const state = reads(this);
    const kind = KINDS[what];
    expect(kind, `a known read: ${what}`).to.not.equal(undefined);
    // Held at its n-th disk read, for n = 1, 2, … until a read ends before its n-th.
    for (let n = 1; ; n++) {
      const disk = state.base!.clone();
      const gate = gateReads(disk);
      const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
      const held = gate.arm(n);
      const reading = readAll(kind(store, state.stream), undefined, async () => undefined).then(
        (events) => ({ events }),
        (error: Error) => ({ failure: String(error) }),
      );
      const whichFirst = await Promise.race([held.then(() => 'held' as const), reading.then(() => 'ended' as const)]);
      if (whichFirst === 'ended') {
        await store.close();
        break;
      }
      const rewritten = await twoScavenges(store, first, second);
      gate.release();
      state.runs.push({ at: `disk read ${n}`, rewritten, ...(await reading) });
      await store.close();
    }
    // Held between two events it returns, at every `every`th until a read ends before it.
    for (let at = every; ; at += every) {
      const disk = state.base!.clone();
      const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
      let rewritten: [number, number] | undefined;
      const outcome = await readAll(kind(store, state.stream), at, async () => void (rewritten = await twoScavenges(store, first, second))).then(
        (events) => ({ events }),
        (error: Error) => ({ failure: String(error) }),
      );
      await store.close();
      if (!rewritten) break;
      state.runs.push({ at: `event ${at}`, rewritten, ...outcome });
    }
    await this.figures({ name: 'reads held while two scavenges ran', value: state.runs.length, unit: 'reads' });
  },
);

Then('every read returned versions {int} to {int} of {string}, each event as stored, and none failed', function (this: EventfoldWorld, from: number, to: number, stream: string) {
  const { runs, stored } = reads(this);
  const count = Math.abs(to - from) + 1;
  const expected = Array.from({ length: count }, (_, i) => stored[from <= to ? from + i : from - i]);
  const problems: string[] = [];
  for (const run of runs) {
    if (run.failure) problems.push(`${run.at}: ${run.failure}`);
    else if (JSON.stringify(run.events!.filter((e) => e.stream === stream)) !== JSON.stringify(expected)) problems.push(`${run.at}: ${run.events!.length} events, not versions ${from} to ${to} as stored`);
  }
  expect(problems).to.deep.equal([]);
});

Then('at least {int} reads were held, each while both scavenges rewrote segments', function (this: EventfoldWorld, atLeast: number) {
  const { runs } = reads(this);
  expect(runs.length).to.be.at.least(atLeast);
  for (const run of runs) expect(run.rewritten[0] > 0 && run.rewritten[1] > 0, `${run.at}: segments rewritten ${run.rewritten.join(' and ')}`).to.equal(true);
});
