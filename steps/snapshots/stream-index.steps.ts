import { When } from '@cucumber/cucumber';
import { expect } from 'chai';
import fc from 'fast-check';
import { EventStore, SimulatedDisk } from '../../src/index';
import { StreamHeads, withNameTable, type StreamHead } from '../../src/log/stream-index';
import { writeFileHeader } from '../../src/log/file-header';
import { payloadCodec } from '../../src/log/payload-codec';
import { decodeSnapshot, SNAPSHOT_HEADER_BYTES, SNAPSHOT_MAGIC } from '../../src/snapshot/snapshot-file';
import { inspectStore } from '../../src/recovery/inspect';
import { check } from '../support/property-check';
import type { EventfoldWorld } from '../support/world';

const DIR = '/store';

/**
 * Names a reviewer would try: one text in several Unicode normalizations
 * (each a different stream), U+FFFD (what a lone surrogate would become),
 * NUL, the longest names allowed (256 bytes of 1-, 2-, 3- and 4-byte
 * characters), names that share a prefix, a space.
 */
const TRICKY_NAMES = [
  'café',
  'cafe\u0301',
  '\u00c5',
  '\u212b',
  'A\u030a',
  'ﬁ',
  'fi',
  '\ufffd',
  'a\ufffd',
  'a\u0000b',
  ' ',
  'x'.repeat(256),
  'é'.repeat(128),
  '€'.repeat(85),
  '😀'.repeat(64),
  's-1',
  's-10',
  's-100',
];

/** Any name the store takes (not "$…", which are its own): generated over all of Unicode, or one of the tricky ones. */
const streamName = fc.oneof(
  fc.constantFrom(...TRICKY_NAMES),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).filter((s) => !s.startsWith('$') && Buffer.byteLength(s) <= 256),
  fc.nat({ max: 300 }).map((n) => `s-${n}`),
);

/** Names to look up that no stream can have: lone surrogates (they would be written as U+FFFD), and names never used. */
const NEVER_STORED = ['a\ud800', '\udc00', 'caf\u00e9\u0301', 'x'.repeat(257), 's-'];

const head = fc.record({ version: fc.integer({ min: -1, max: 1e6 }), position: fc.integer({ min: -1, max: 2 ** 40 }), offset: fc.nat({ max: 2 ** 32 - 1 }) });

type Step =
  | { op: 'get' | 'delete' | 'bump'; name: string }
  | { op: 'set'; name: string; head: { version: number; position: number; offset: number } }
  | { op: 'reseed' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'delete' as const, 'bump' as const), name: streamName }),
  fc.record({ op: fc.constant('set' as const), name: streamName, head }),
  fc.constant({ op: 'reseed' as const }),
);

function headOf(h: { version: number; position: number; offset: number }): StreamHead {
  return { version: h.version, pendingVersion: h.version, position: h.position, offset: h.offset };
}

/** The heads a snapshot of `model` keeps, in its order (streams without a durable event are left out), with a fresh StreamHeads seeded from them. */
function reseed(heads: StreamHeads, model: Map<string, StreamHead>): StreamHeads {
  // With the hash table a snapshot stores, or (as from snapshots of version 3) without it.
  const next = new StreamHeads();
  next.seed(model.size % 2 === 0 ? withNameTable(heads.toColumns()) : heads.toColumns());
  for (const [name, h] of [...model]) {
    model.delete(name);
    if (h.version >= 0) model.set(name, headOf(h));
  }
  return next;
}

When('{int} generated runs of heads set, asked for, changed and deleted on an index seeded from a snapshot agree with a Map', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(
    fc.uniqueArray(fc.tuple(streamName, head), { selector: ([name]) => name, maxLength: 80 }),
    fc.array(step, { maxLength: 120 }),
    async (seeded, steps) => {
      const model = new Map<string, StreamHead>();
      const start = new StreamHeads();
      for (const [name, h] of seeded) start.set(name, headOf(h));
      for (const [name, h] of seeded) model.set(name, headOf(h));
      let heads = reseed(start, model);
      const agree = (where: string) => {
        expect(heads.size, `size ${where}`).to.equal(model.size);
        expect([...heads], `every head, in order, ${where}`).to.deep.equal([...model]);
        expect([...heads.namesWithEvents()], `the names with events ${where}`).to.deep.equal([...model].filter(([, h]) => h.version >= 0).map(([name]) => name));
      };
      agree('after the seed');
      for (const s of steps) {
        if (s.op === 'reseed') heads = reseed(heads, model);
        else if (s.op === 'get') expect(heads.get(s.name), `get ${JSON.stringify(s.name)}`).to.deep.equal(model.get(s.name));
        else if (s.op === 'delete') expect(heads.delete(s.name), `delete ${JSON.stringify(s.name)}`).to.equal(model.delete(s.name));
        else if (s.op === 'set') {
          heads.set(s.name, headOf(s.head));
          model.set(s.name, headOf(s.head));
        } else {
          // A writer changes the head `get` gave it in place: the index must keep that very object.
          const mine = heads.get(s.name);
          const theirs = model.get(s.name);
          expect(mine, `get ${JSON.stringify(s.name)} before a change`).to.deep.equal(theirs);
          if (mine && theirs) {
            mine.version = theirs.version = theirs.version + 1;
            mine.pendingVersion = theirs.pendingVersion = theirs.version;
          }
        }
        for (const name of NEVER_STORED) expect(heads.get(name), `get ${JSON.stringify(name)}`).to.equal(model.get(name));
      }
      agree('after the changes');
      heads = reseed(heads, model);
      agree('after a snapshot of them');
    },
  );
  await check(this, property, runs);
});

type StoreStep =
  | { op: 'append'; name: string; events: number }
  | { op: 'delete'; name: string; hard: boolean }
  | { op: 'retain'; name: string; metadata: { maxCount: number } | { truncateBefore: number } }
  | { op: 'checkpoint' | 'reopen' | 'scavenge' };

const storeStep: fc.Arbitrary<StoreStep> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('append' as const), name: streamName, events: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), name: streamName, hard: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('retain' as const),
      name: streamName,
      metadata: fc.oneof(fc.record({ maxCount: fc.integer({ min: 1, max: 3 }) }), fc.record({ truncateBefore: fc.integer({ min: 0, max: 4 }) })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('checkpoint' as const, 'reopen' as const, 'scavenge' as const) }) },
);

/** What a store answers about every name: its version (or the error's name), and the positions `readStream` returns. */
async function answers(store: EventStore, names: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { position: store.position, streams: [...store.streams()].sort() };
  for (const name of names) {
    let version: unknown;
    try {
      version = store.streamVersion(name);
    } catch (error) {
      version = (error as Error).name;
    }
    const positions: unknown[] = [];
    try {
      for await (const event of store.readStream(name)) positions.push([event.position, event.version]);
    } catch (error) {
      positions.push((error as Error).name);
    }
    out[JSON.stringify(name)] = { version, positions };
  }
  return out;
}

When('{int} generated stores of streams with such names answer alike live, reopened from a snapshot, from the log alone and read-only', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(fc.array(storeStep, { minLength: 1, maxLength: 30 }), fc.array(storeStep, { maxLength: 15 }), async (before, after) => {
    const disk = new SimulatedDisk();
    const names = new Set<string>(['s-0', ...NEVER_STORED.filter((n) => n.isWellFormed() && Buffer.byteLength(n) <= 256)]);
    let store = await EventStore.open(DIR, { fs: disk, snapshotEvery: 0 });
    let readOnly: EventStore | undefined;
    const run = async (steps: StoreStep[]) => {
      for (const s of steps) {
        if (s.op === 'append') {
          names.add(s.name);
          await store.append(s.name, Array.from({ length: s.events }, () => ({ type: 'T' }))).catch(() => undefined);
        } else if (s.op === 'delete') {
          names.add(s.name);
          await store.deleteStream(s.name, { hard: s.hard }).catch(() => undefined);
        } else if (s.op === 'retain') {
          names.add(s.name);
          await store.setStreamMetadata(s.name, s.metadata).catch(() => undefined);
        } else if (s.op === 'checkpoint') await store.checkpoint();
        else if (s.op === 'scavenge') await store.scavenge();
        else {
          await store.close();
          store = await EventStore.open(DIR, { fs: disk, snapshotEvery: 0 });
        }
      }
    };
    try {
      await store.append('s-0', [{ type: 'T' }]);
      await run(before);
      await store.checkpoint();
      // A reader that starts from this snapshot, then follows the writer through the rest.
      readOnly = await EventStore.open(DIR, { fs: disk, readOnly: true });
      expect(readOnly.recovery.snapshot.used, 'the read-only open starts from the checkpoint').to.not.equal(null);
      await run(after);
      await store.checkpoint();
      const live = await answers(store, [...names]);
      await readOnly.refresh();
      expect(await answers(readOnly, [...names]), 'a read-only open that followed the writer').to.deep.equal(live);
      // What the snapshots say of every stream is what the log holds (snapshot/snapshot-heads.ts): no healthy store is called damaged.
      expect(await readOnly.verified(), 'the read-only open checked the log its snapshot covered').to.deep.equal({ log: 'verified', problem: null });
      await store.close();
      store = await EventStore.open(DIR, { fs: disk, snapshotEvery: 0 });
      expect(store.recovery.snapshot.used, 'the reopen starts from the checkpoint').to.not.equal(null);
      expect(await answers(store, [...names]), 'reopened from the snapshot').to.deep.equal(live);
      expect(await store.verified(), 'the reopen checked the log its snapshot covered').to.deep.equal({ log: 'verified', problem: null });
      await store.close();
      expect((await inspectStore(DIR, disk)).problems, 'eventfold verify').to.deep.equal([]);
      for (const snapshot of await disk.readdir(`${DIR}/snapshots`)) await disk.unlink(`${DIR}/snapshots/${snapshot}`);
      store = await EventStore.open(DIR, { fs: disk, snapshotEvery: 0 });
      expect(store.recovery.snapshot.used, 'the reopen reads the whole log').to.equal(null);
      expect(await answers(store, [...names]), 'reopened from the log alone').to.deep.equal(live);
    } finally {
      await readOnly?.close();
      await store.close();
    }
  });
  await check(this, property, runs);
});

/** The newest snapshot rewritten as format version 3 wrote it: `streams` and `sparseOffsets` as arrays, the names as strings. */
async function rewriteAsVersion3(disk: SimulatedDisk, edit: (names: string[]) => void = () => undefined): Promise<void> {
  const [name] = (await disk.readdir(`${DIR}/snapshots`)).filter((n) => n.endsWith('.snap')).sort().reverse();
  const path = `${DIR}/snapshots/${name}`;
  const contents = decodeSnapshot(disk.peek(path), name);
  const { nameBytes, nameEnds, versions, positions, offsets } = contents.streams;
  const names = Array.from(nameEnds, (end, i) => Buffer.from(nameBytes).toString('utf8', i === 0 ? 0 : nameEnds[i - 1], end));
  edit(names);
  const body = payloadCodec.pack({ ...contents, streams: { names, versions: [...versions], positions: [...positions], offsets: [...offsets] }, sparseOffsets: [...contents.sparseOffsets] });
  const file = Buffer.alloc(SNAPSHOT_HEADER_BYTES + body.length);
  body.copy(file, SNAPSHOT_HEADER_BYTES);
  writeFileHeader(file, SNAPSHOT_MAGIC, 3, body.length, file.subarray(SNAPSHOT_HEADER_BYTES));
  disk.overwrite(path, file);
}

When('{int} generated stores with such names are reopened from a snapshot of format version 3, as earlier versions wrote it', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(fc.uniqueArray(streamName, { minLength: 1, maxLength: 40 }), async (streams) => {
    const disk = new SimulatedDisk();
    let store = await EventStore.open(DIR, { fs: disk });
    try {
      for (const [i, name] of streams.entries()) await store.append(name, Array.from({ length: (i % 3) + 1 }, () => ({ type: 'T' })));
      await store.checkpoint();
      const live = await answers(store, [...streams, ...NEVER_STORED.slice(0, 2)]);
      await store.close();
      await rewriteAsVersion3(disk);
      store = await EventStore.open(DIR, { fs: disk });
      expect(store.recovery.snapshot.used, 'the version 3 snapshot is used').to.not.equal(null);
      expect(await answers(store, [...streams, ...NEVER_STORED.slice(0, 2)])).to.deep.equal(live);
      expect(await store.verified(), 'the heads of a version 3 snapshot are those of the log').to.deep.equal({ log: 'verified', problem: null });
    } finally {
      await store.close();
    }
  });
  await check(this, property, runs);
});

When('a store of {int} streams is reopened from a snapshot of format version 3 that names one stream twice', async function (this: EventfoldWorld, count: number) {
  const disk = new SimulatedDisk();
  let store = await EventStore.open(DIR, { fs: disk });
  const names = Array.from({ length: count }, (_, i) => `s-${i}`);
  try {
    for (const [i, name] of names.entries()) await store.append(name, Array.from({ length: i + 1 }, () => ({ type: 'T' })));
    await store.checkpoint();
    const live = await answers(store, names);
    await store.close();
    await rewriteAsVersion3(disk, (listed) => (listed[2] = listed[1]));
    store = await EventStore.open(DIR, { fs: disk });
    expect(store.recovery.snapshot.used, 'the snapshot is passed over').to.equal(null);
    expect(store.recovery.snapshot.skipped.map((s) => s.reason).join('\n')).to.contain(`its streams: the name of row 2 repeats row 1's, "s-1"`);
    expect(await answers(store, names), 'the whole log replayed').to.deep.equal(live);
  } finally {
    await store.close();
  }
});
