import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import fc from 'fast-check';
import { EventStore, InvalidInputError, SimulatedDisk } from '../../src/index';
import { eventInput, malformedAppend, malformedOpenOptions, name } from '../support/arbitraries';
import { difference, readBack } from '../support/exact-equal';
import { check, propertyChecks } from '../support/property-check';
import type { EventfoldWorld } from '../support/world';

const DIR = '/store';

/** Every file of the simulated store with its bytes (written and durable): to prove nothing changed. */
async function fingerprint(disk: SimulatedDisk, dir = DIR): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (!(await disk.exists(dir))) return files;
  for (const entry of await disk.readdir(dir)) {
    const path = `${dir}/${entry}`;
    let isDir = true;
    try {
      await disk.readdir(path);
    } catch {
      isDir = false;
    }
    if (isDir) for (const [p, bytes] of await fingerprint(disk, path)) files.set(p, bytes);
    else files.set(path, disk.peek(path).toString('base64'));
  }
  return files;
}

/** Two events of one append may not carry the same id (DuplicateEventIdError refuses the append): the generated appends are all valid ones. */
function sameId(a: { id?: string }, b: { id?: string }): boolean {
  return a.id !== undefined && a.id === b.id;
}

When('{int} generated appends of plain data go through append, close, reopen and both reads', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(name.filter((stream) => !stream.startsWith('$')), fc.uniqueArray(eventInput, { minLength: 1, maxLength: 4, comparator: sameId }), async (stream, events) => {
    const disk = new SimulatedDisk();
    let store = await EventStore.open(DIR, { fs: disk });
    await store.append(stream, events as never);
    await store.close();
    store = await EventStore.open(DIR, { fs: disk });
    try {
      const { viaStream, viaAll } = await readBack(store, stream);
      expect(viaStream).to.have.length(events.length);
      expect(viaAll).to.have.length(events.length);
      for (let i = 0; i < events.length; i++) {
        const sent = events[i] as { type: string; data?: unknown; metadata?: unknown; id?: string };
        for (const got of [viaStream[i], viaAll[i]]) {
          expect(got.stream).to.equal(stream);
          expect(got.type).to.equal(sent.type);
          if (sent.id !== undefined) expect(got.id).to.equal(sent.id);
          const data = difference(sent.data === undefined ? null : sent.data, got.data, 'data');
          if (data) throw new Error(`event ${i}: ${data}`);
          const expectedMetadata = sent.metadata === undefined || sent.metadata === null ? null : sent.metadata;
          const metadata = difference(expectedMetadata, got.metadata, 'metadata');
          if (metadata) throw new Error(`event ${i}: ${metadata}`);
        }
      }
    } finally {
      await store.close();
    }
  });
  await check(this, property, runs);
});

When('{int} generated malformed appends are made to a store holding 3 events', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(malformedAppend, async (bad) => {
    const disk = new SimulatedDisk();
    const store = await EventStore.open(DIR, { fs: disk });
    try {
      await store.append('existing', [{ type: 'A' }, { type: 'B' }, { type: 'C' }]);
      const before = await fingerprint(disk);
      const error = await store.append(bad.stream as string, bad.events as never, bad.options as never).then(() => undefined, (e: unknown) => e);
      expect(error, 'the append should be refused').to.be.instanceOf(InvalidInputError);
      for (const words of ([] as string[]).concat(bad.says)) expect((error as Error).message).to.contain(words);
      expect(await fingerprint(disk)).to.deep.equal(before);
      // Still healthy: the next good append lands where it should.
      expect((await store.append('existing', [{ type: 'D' }], { expectedVersion: 2 })).position).to.equal(3);
    } finally {
      await store.close();
    }
  });
  await check(this, property, runs);
});

When('{int} generated malformed option objects are passed to open', async function (this: EventfoldWorld, runs: number) {
  const property = fc.asyncProperty(malformedOpenOptions, async (bad) => {
    const disk = new SimulatedDisk();
    const options = bad.options === null || typeof bad.options !== 'object' ? bad.options : { ...(bad.options as object), fs: disk };
    const error = await EventStore.open(DIR, options as never).then(
      (store) => store.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error, 'the open should be refused').to.be.instanceOf(InvalidInputError);
    expect((error as Error).message).to.contain(bad.says);
    expect(await disk.exists(DIR), 'the store directory was created').to.equal(false);
  });
  await check(this, property, runs);
});

Then('every case held', function (this: EventfoldWorld) {
  expect(propertyChecks(this).runs).to.be.a('number').greaterThan(0);
});
