import { After, Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { ExpectedVersionConflictError, NodeFileSystem, type AppendResult, type FileHandle } from '../../src/index';
import { collect } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * What the retry check of an append with ids reads of the log, counted in
 * bytes read from its segments (features/lifecycle/idempotent-appends.feature).
 */
class LogReadsFileSystem extends NodeFileSystem {
  /** Bytes read from segments since counting began (undefined: not counting). */
  counted: number | undefined;
  /** While set, every read of a segment waits for it. */
  hold: Promise<void> | undefined;
  /** Called when a read begins to wait for `hold`. */
  onHeld: (() => void) | undefined;

  override async open(path: string, mode?: 'read' | 'write'): Promise<FileHandle> {
    const handle = await super.open(path, mode);
    if (!path.endsWith('.seg')) return handle;
    const read = handle.read.bind(handle);
    handle.read = async (buffer, offset, length, position) => {
      if (this.hold) {
        this.onHeld?.();
        await this.hold;
      }
      const n = await read(buffer, offset, length, position);
      if (this.counted !== undefined) this.counted += n;
      return n;
    };
    return handle;
  }

  /** Bytes of segments `action` read. */
  async count(action: () => Promise<unknown>): Promise<number> {
    this.counted = 0;
    try {
      await action();
      return this.counted;
    } finally {
      this.counted = undefined;
    }
  }
}

const retryCost = scenarioState(() => ({
  fs: undefined as LogReadsFileSystem | undefined,
  /** Bytes the append under test read from the log. */
  read: 0,
  /** The stale append held at its first read, and what it read once let go. */
  stale: undefined as { outcome: Promise<unknown>; release: () => void; read: Promise<number> } | undefined,
  other: undefined as AppendResult | undefined,
}));

/** '"a" and "b"' → events with those ids. */
function eventsWithIds(list: string) {
  return [...list.matchAll(/"([^"]+)"/g)].map((m, i) => ({ id: m[1], type: 'Paid', data: { line: i } }));
}

Given('a store whose reads of the log are counted, where {string} has {int} events', async function (this: EventfoldWorld, stream: string, count: number) {
  const fs = (retryCost(this).fs = new LogReadsFileSystem());
  // The Background's store, opened again on a file system that counts.
  await this.store?.close();
  const store = await this.openStore({ fs });
  for (let i = 0; i < count; i += 500) await store.append(stream, Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ type: 'Paid', data: { n: i + j } })));
});

When('{string} sends the events {} expecting version {int}, counting what it reads of the log', async function (this: EventfoldWorld, stream: string, ids: string, version: number) {
  const state = retryCost(this);
  state.read = await state.fs!.count(() => this.capture(() => this.store!.append(stream, eventsWithIds(ids), { expectedVersion: version })));
});

Then('it read no more of the log than reading the last {int} events of {string} backward', async function (this: EventfoldWorld, count: number, stream: string) {
  const state = retryCost(this);
  const reference = await state.fs!.count(() => collect(this.store!.readStream(stream, { direction: 'backward', limit: count })));
  expect(reference, 'the reference read').to.be.greaterThan(0);
  expect(state.read, `bytes the append read, against ${reference} for its last ${count} events`).to.be.at.most(reference);
});

When('{string} sends the events {} expecting version {int}, and its reads of the log are held', async function (this: EventfoldWorld, stream: string, ids: string, version: number) {
  const state = retryCost(this);
  const fs = state.fs!;
  let release!: () => void;
  fs.hold = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => (fs.onHeld = resolve));
  let outcome!: Promise<unknown>;
  const read = fs.count(async () => {
    outcome = this.store!.append(stream, eventsWithIds(ids), { expectedVersion: version }).then(
      (result) => result,
      (error: unknown) => error,
    );
    await outcome;
  });
  state.stale = {
    outcome: held.then(() => outcome),
    release: () => {
      fs.hold = undefined;
      fs.onHeld = undefined;
      release();
    },
    read,
  };
  await held;
});

When('{string} appends {int} event meanwhile', async function (this: EventfoldWorld, stream: string, count: number) {
  // Appends without ids read nothing of the log: one that completes went past the held read.
  retryCost(this).other = await this.store!.append(stream, Array.from({ length: count }, (_, i) => ({ type: 'Paid', data: { other: i } })));
});

Then('that append returned version {int} while the stale append was still reading', function (this: EventfoldWorld, version: number) {
  const state = retryCost(this);
  expect(state.other?.version).to.equal(version);
  expect(state.fs!.hold, 'the stale append still held').to.not.equal(undefined);
});

When('the stale append\'s reads go on', async function (this: EventfoldWorld) {
  const stale = retryCost(this).stale!;
  stale.release();
  this.lastError = await stale.outcome;
  retryCost(this).read = await stale.read;
});

Then('the stale append was rejected with an ExpectedVersionConflictError saying its stream is at version {int}', function (this: EventfoldWorld, version: number) {
  expect(this.lastError).to.be.instanceOf(ExpectedVersionConflictError);
  expect((this.lastError as ExpectedVersionConflictError).actual).to.equal(version);
});

Then('it read no more of the log than reading {string} backward down to version {int} and reading its last {int} events', async function (this: EventfoldWorld, stream: string, version: number, count: number) {
  const state = retryCost(this);
  const fs = state.fs!;
  const last = this.store!.streamVersion(stream);
  const down = await fs.count(() => collect(this.store!.readStream(stream, { direction: 'backward', limit: last - version + 1 })));
  const lastEvents = await fs.count(() => collect(this.store!.readStream(stream, { direction: 'backward', limit: count })));
  expect(state.read, `bytes the stale append read, against ${down} down to version ${version} and ${lastEvents} for the last ${count}`).to.be.at.most(down + lastEvents);
});

After(function (this: EventfoldWorld) {
  // A scenario that failed while a read was held lets it go, so that the store can close.
  retryCost(this).stale?.release();
});
