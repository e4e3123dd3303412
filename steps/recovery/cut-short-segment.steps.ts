import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk, type RecoveryReport } from '../../src/index';
import { AT_LENGTH, FRAME_HEADER_BYTES } from '../../src/log/record-layout';
import { SEGMENT_HEADER_BYTES, segmentName } from '../../src/log/segment-file';
import { collect, numberedEvents } from '../support/events';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const DIR = '/store';
const FIRST_SEGMENT = `log/${segmentName(0)}`;

/** What the cut-short-segment steps share. */
const cut = scenarioState(() => ({
  disk: undefined as SimulatedDisk | undefined,
  segmentSize: 0,
  appended: 0,
  recovery: undefined as RecoveryReport | undefined,
  openError: undefined as unknown,
  readError: undefined as unknown,
  read: undefined as number | undefined,
}));

Given('a store on a simulated disk whose segments roll every {int} KiB', function (this: EventfoldWorld, kib: number) {
  cut(this).disk = new SimulatedDisk();
  cut(this).segmentSize = kib * 1024;
});

Given('{int} events were appended, a checkpoint taken after the first {int}, and the store closed cleanly', async function (this: EventfoldWorld, count: number, checkpointAt: number) {
  const { disk, segmentSize } = cut(this);
  const store = await EventStore.open(DIR, { fs: disk, segmentSize });
  for (let i = 0; i < count; i++) {
    await store.append(`account-${i % 7}`, numberedEvents(1, i));
    if (i + 1 === checkpointAt) await store.checkpoint();
  }
  await store.close();
  cut(this).appended = count;
});

Given('{int} events were appended to {int} streams, one of them deleted and the store scavenged and closed cleanly', async function (this: EventfoldWorld, count: number, streams: number) {
  const { disk, segmentSize } = cut(this);
  const store = await EventStore.open(DIR, { fs: disk, segmentSize });
  for (let i = 0; i < count; i++) await store.append(`s-${i % streams}`, numberedEvents(1, i));
  await store.deleteStream('s-0');
  await store.scavenge();
  await store.close();
  cut(this).appended = count;
});

When('the first segment is cut short after its {int}th record', function (this: EventfoldWorld, records: number) {
  const disk = cut(this).disk!;
  const path = `${DIR}/${FIRST_SEGMENT}`;
  const bytes = disk.peek(path);
  let end = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < records; i++) end += FRAME_HEADER_BYTES + bytes.readUInt32LE(end + AT_LENGTH);
  expect(end, 'the cut is inside the segment').to.be.lessThan(bytes.length);
  disk.overwrite(path, Buffer.from(bytes.subarray(0, end)));
});

When('the damaged store is opened', async function (this: EventfoldWorld) {
  const state = cut(this);
  let store: EventStore;
  try {
    store = await EventStore.open(DIR, { fs: state.disk, segmentSize: state.segmentSize });
  } catch (error) {
    state.openError = error;
    return;
  }
  state.recovery = store.recovery;
  try {
    state.read = (await collect(store.readAll())).length;
  } catch (error) {
    state.readError = error;
  } finally {
    await store.close().catch(() => undefined);
  }
});

Then('the open says the covered log is checked in the background', function (this: EventfoldWorld) {
  expect(cut(this).openError, String(cut(this).openError)).to.equal(undefined);
  expect(cut(this).recovery!.coveredLog).to.equal('checked in the background');
});

Then('reading all events fails with a CorruptionError naming the first segment', function (this: EventfoldWorld) {
  const { readError, read, appended } = cut(this);
  expect(readError, `read ${read} of ${appended} events without an error`).to.not.equal(undefined);
  expect((readError as Error).name, String(readError)).to.equal('CorruptionError');
  expect((readError as { file: string }).file).to.equal(FIRST_SEGMENT);
});

Then('the open failed with a CorruptionError naming the first segment', function (this: EventfoldWorld) {
  const { openError, readError, read, appended } = cut(this);
  expect(openError, `opened; read ${read} of ${appended} events${readError ? `, then ${String(readError)}` : ''}`).to.not.equal(undefined);
  expect((openError as Error).name, String(openError)).to.equal('CorruptionError');
  expect((openError as { file: string }).file).to.equal(FIRST_SEGMENT);
});
