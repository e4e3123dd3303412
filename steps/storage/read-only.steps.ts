import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, inspectStore, type RecordedEvent } from '../../src/index';
import { checkFrame, FRAME_HEADER_BYTES } from '../../src/log/record';
import { SEGMENT_HEADER_BYTES } from '../../src/log/segment-file';
import { exited, startChildWithInput } from '../support/child-lines';
import { assertGapless, collect } from '../support/events';
import { expectFilesUnchanged, rememberFiles } from '../support/file-hashes';
import { segmentPaths } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { expectAcknowledged, writerAcks, writerChild, writerLines, writerReached } from '../support/writer-acks';
import { CHECKPOINT_DIR } from '../../src/store-layout';

/** The read-only store of the scenario, what it saw, and the bytes of the torn append it must not see. */
const readers = scenarioState(() => ({
  reader: undefined as EventStore | undefined,
  seen: [] as RecordedEvent[],
  tornBytes: 0,
}));

Given('a writer process that appends to the store and reports each acknowledged append', async function (this: EventfoldWorld) {
  const { acks } = writerChild(this);
  const writer = (writerChild(this).lines = startChildWithInput(this, 'append-loop.ts', [this.storeDir, '2']));
  writer.listeners.push((line) => {
    const match = /^ack (\S+) (\d+) (\d+) (\d+)$/.exec(line);
    if (match) acks.push({ stream: match[1], firstSeq: Number(match[2]), count: Number(match[3]), position: Number(match[4]) });
  });
  writerChild(this).pid = Number((await writer.next(/^ready /)).split(' ')[1]);
  this.childOwnerPid = writerChild(this).pid;
});

Given('the writer was killed with SIGKILL after {int} acknowledged appends', async function (this: EventfoldWorld, count: number) {
  const writer = writerLines(this);
  await new Promise<void>((resolve) => {
    const check = () => {
      if (writerAcks(this).length >= count) resolve();
    };
    writer.listeners.push(check);
    check();
  });
  writer.child.kill('SIGKILL');
  await exited(writer.child);
});

Given('the last append in the log was torn halfway', async function (this: EventfoldWorld) {
  // What a reader sees before the tear, to compare with what it sees after.
  const before = await EventStore.open(this.storeDir, { readOnly: true });
  this.eventsBeforeTear = (await collect(before.readAll())).length;
  await before.close();
  const segment = (await segmentPaths(this)).pop()!;
  const bytes = readFileSync(segment);
  let at = SEGMENT_HEADER_BYTES;
  let last = { offset: at, length: 0 };
  for (;;) {
    const check = checkFrame(bytes, at, bytes.length - at);
    if (check.kind !== 'ok') break;
    last = { offset: at, length: FRAME_HEADER_BYTES + check.length };
    at += last.length;
  }
  const half = bytes.subarray(last.offset, last.offset + Math.floor(last.length / 2));
  appendFileSync(segment, half);
  readers(this).tornBytes = half.length + (bytes.length - at);
});

When('this process opens the store read-only and follows it until it has seen {int} events', async function (this: EventfoldWorld, count: number) {
  await writerReached(this, 0);
  const store = await EventStore.open(this.storeDir, { readOnly: true });
  readers(this).reader = store;
  const seen: RecordedEvent[] = [];
  for await (const event of store.follow({ pollMs: 20 })) {
    seen.push(event);
    if (seen.length >= count) break;
  }
  readers(this).seen = seen;
  await store.close();
});

Then('it saw positions from 0 without a gap, and each event the writer acknowledged at its position', function (this: EventfoldWorld) {
  const { seen } = readers(this);
  assertGapless(seen);
  const last = seen[seen.length - 1].position;
  const acks = writerAcks(this).filter((a) => a.position <= last);
  expect(acks.length, 'acknowledged appends within what was seen').to.be.greaterThan(0);
  expectAcknowledged(seen, acks, 'follower');
});

When('a read-only store is opened on the same directory', async function (this: EventfoldWorld) {
  readers(this).reader = await EventStore.open(this.storeDir, { readOnly: true, fs: this.disk });
});

Then('the read-only store still sees {int} events', async function (this: EventfoldWorld, count: number) {
  expect(await collect(readers(this).reader!.readAll())).to.have.length(count);
});

Then('after a refresh it sees {int} events, the same ones the writer reads', async function (this: EventfoldWorld, count: number) {
  const reader = readers(this).reader!;
  expect(await reader.refresh()).to.equal(count - 1);
  const theirs = await collect(reader.readAll());
  expect(theirs).to.have.length(count);
  expect(theirs).to.deep.equal(await collect(this.store!.readAll()));
  expect(await collect(reader.readStream('ledger', { from: 8 }))).to.deep.equal(await collect(this.store!.readStream('ledger', { from: 8 })));
  await reader.close();
});

When('this process opens the store read-only, reads every event and closes it', async function (this: EventfoldWorld) {
  rememberFiles(this, this.storeDir);
  const store = await EventStore.open(this.storeDir, { readOnly: true });
  readers(this).seen = await collect(store.readAll());
  await store.close();
});

Then('it saw every acknowledged event and nothing of the torn append', function (this: EventfoldWorld) {
  const { seen } = readers(this);
  assertGapless(seen);
  expect(seen).to.have.length(this.eventsBeforeTear!);
  expectAcknowledged(seen, writerAcks(this), 'reader');
});

Then('every file of the store is byte for byte as it was', function (this: EventfoldWorld) {
  expectFilesUnchanged(this);
});

Then("the next writer's open still finds the crash: a torn tail and an unclean shutdown", async function (this: EventfoldWorld) {
  const store = await this.openStore();
  expect(store.recovery.cleanShutdown).to.equal(false);
  expect(store.recovery.tornTail?.bytesTruncated).to.equal(readers(this).tornBytes);
  expect(store.recovery.staleLockOwner).to.equal(writerChild(this).pid);
  expect(store.position + 1).to.equal(this.eventsBeforeTear);
});

Given('an empty folder', function (this: EventfoldWorld) {
  mkdirSync(this.storeDir, { recursive: true });
});

When('this process opens the folder read-only', async function (this: EventfoldWorld) {
  await this.capture(() => EventStore.open(this.storeDir, { readOnly: true }));
});

When('this process opens the store read-only', async function (this: EventfoldWorld) {
  readers(this).reader = await EventStore.open(this.storeDir, { readOnly: true });
});

Then('the folder is still empty', function (this: EventfoldWorld) {
  expect(readdirSync(this.storeDir)).to.deep.equal([]);
});

Then('an append, a checkpoint and a subscription are each refused with a ReadOnlyStoreError', async function (this: EventfoldWorld) {
  const reader = readers(this).reader!;
  const outcomes = await Promise.allSettled([
    reader.append('ledger', [{ type: 'Deposited', data: { amount: 1 } }]),
    reader.checkpoint(),
    reader.subscribe('mailer', () => undefined),
  ]);
  for (const outcome of outcomes) {
    expect(outcome.status).to.equal('rejected');
    expect((outcome as PromiseRejectedResult).reason.name).to.equal('ReadOnlyStoreError');
  }
  expect(join(this.storeDir, CHECKPOINT_DIR)).to.satisfy((dir: string) => !readdirSync(this.storeDir).includes(CHECKPOINT_DIR) || readdirSync(dir).length === 0);
});

When('the read-only store is closed', async function (this: EventfoldWorld) {
  await readers(this).reader!.close();
});

Then('the log it followed has {int} segments', async function (this: EventfoldWorld, count: number) {
  expect((await inspectStore(this.storeDir, this.disk)).segments).to.have.length(count);
});
