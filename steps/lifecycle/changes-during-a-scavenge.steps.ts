import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, type StoreOptions } from '../../src/index';
import { collect } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** Lifecycle changes made while a scavenge runs (features/lifecycle/changes-during-a-scavenge.feature). */
const DIR = '/store';
const OPTIONS: StoreOptions = { segmentSize: 4096 };

const changes = scenarioState(() => ({
  disk: undefined as SimulatedDisk | undefined,
  stream: '',
  /** What a read of the stream returned right after the change was acknowledged, during the scavenge. */
  readDuring: undefined as number | undefined,
  /** Versions of the stream read after the scavenge, and after a reopen. */
  after: [] as number[],
  afterReopen: [] as number[],
}));

Given('a store on a simulated disk with segments of 4 KiB where {string} has {int} events with maxCount {int}, between {int} events of {string}', async function (this: EventfoldWorld, stream: string, count: number, maxCount: number, others: number, other: string) {
  const disk = new SimulatedDisk();
  const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
  for (let i = 0; i < Math.max(count, others); i++) {
    if (i < others) await store.append(other, [{ type: 'Other', data: { i, pad: 'x'.repeat(60) } }]);
    if (i < count) await store.append(stream, [{ type: 'Ordered', data: { i, pad: 'y'.repeat(60) } }]);
  }
  await store.setStreamMetadata(stream, { maxCount });
  await store.close();
  Object.assign(changes(this), { disk, stream });
});

When('a scavenge runs and, while it writes its first rewritten segment, the metadata of {string} is set to keep every event', async function (this: EventfoldWorld, stream: string) {
  const state = changes(this);
  const disk = state.disk!;
  const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
  const create = disk.create.bind(disk);
  let changed = false;
  disk.create = async (path: string) => {
    // The segment was judged under maxCount; its rewrite is being written: the application lifts the limit now.
    if (path.endsWith('.scavenged.tmp') && !changed) {
      changed = true;
      await store.setStreamMetadata(stream, {});
      state.readDuring = (await collect(store.readStream(stream))).length;
    }
    return create(path);
  };
  await store.scavenge();
  disk.create = create;
  expect(changed, 'the scavenge rewrote a segment').to.equal(true);
  state.after = (await collect(store.readStream(stream))).map((e) => e.version);
  await store.close();
  const reopened = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
  state.afterReopen = (await collect(reopened.readStream(stream))).map((e) => e.version);
  await reopened.close();
});

Then('the change was acknowledged during the scavenge, and {string} read {int} events then', function (this: EventfoldWorld, _stream: string, count: number) {
  expect(changes(this).readDuring).to.equal(count);
});

Then('{string} reads {int} events, versions {int} to {int}, after the scavenge and after a reopen', function (this: EventfoldWorld, _stream: string, count: number, from: number, to: number) {
  const versions = Array.from({ length: count }, (_, i) => from + i);
  expect(to).to.equal(from + count - 1);
  expect({ after: changes(this).after, afterReopen: changes(this).afterReopen }).to.deep.equal({ after: versions, afterReopen: versions });
});

// ---- changes called right before a scavenge, not awaited ----

const together = scenarioState(() => ({ outcomes: [] as PromiseSettledResult<unknown>[] }));

When('{string} appends 1 event holding the text {string}, is deleted for good and the store is scavenged, all called at once', async function (this: EventfoldWorld, stream: string, text: string) {
  const store = this.store!;
  together(this).outcomes = await Promise.allSettled([store.append(stream, [{ type: 'Registered', data: { email: `${text}@example.com` } }]), store.deleteStream(stream, { hard: true }), store.scavenge()]);
});

When(
  'custom metadata holding the text {string} is given to {string}, which is deleted for good, and the store is scavenged, all called at once',
  async function (this: EventfoldWorld, text: string, stream: string) {
    const store = this.store!;
    together(this).outcomes = await Promise.allSettled([store.setStreamMetadata(stream, { custom: { email: `${text}@example.com` } }), store.deleteStream(stream, { hard: true }), store.scavenge()]);
  },
);

Then(/^all three calls succeeded and the scavenge removed (\d+) events?$/, function (this: EventfoldWorld, removed: string) {
  const outcomes = together(this).outcomes;
  expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).to.deep.equal(['ok', 'ok', 'ok']);
  expect(((outcomes[2] as PromiseFulfilledResult<{ eventsRemoved: number }>).value).eventsRemoved).to.equal(Number(removed));
});

// ---- changes of other streams while segments are rewritten ----

const unrelated = scenarioState(() => ({ rewrites: [] as string[], rewritten: 0, versions: [] as number[] }));

When('a scavenge runs and, while it writes each of its first {int} rewritten segments, the metadata of a stream it removes nothing of is set', async function (this: EventfoldWorld, first: number) {
  const state = changes(this);
  const disk = state.disk!;
  const store = await EventStore.open(DIR, { ...OPTIONS, fs: disk });
  const create = disk.create.bind(disk);
  const seen = unrelated(this);
  disk.create = async (path: string) => {
    if (path.endsWith('.scavenged.tmp')) {
      seen.rewrites.push(path);
      if (seen.rewrites.length <= first) await store.setStreamMetadata(`unrelated-${seen.rewrites.length}`, { maxCount: 5 });
    }
    return create(path);
  };
  seen.rewritten = (await store.scavenge()).segmentsRewritten;
  disk.create = create;
  seen.versions = (await collect(store.readStream(state.stream))).map((e) => e.version);
  await store.close();
});

Then("each segment's rewrite was written once", function (this: EventfoldWorld) {
  const { rewrites, rewritten } = unrelated(this);
  expect(rewritten, 'segments rewritten').to.be.greaterThan(3);
  expect(rewrites).to.have.length(rewritten);
  expect(new Set(rewrites).size).to.equal(rewrites.length);
});

Then('{string} reads {int} event, version {int}, after the scavenge', function (this: EventfoldWorld, _stream: string, count: number, version: number) {
  expect(unrelated(this).versions).to.deep.equal(count === 1 ? [version] : []);
});
