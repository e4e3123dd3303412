import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { EventStore, SimulatedDisk } from '../../src/index';
import { checkWork, FIXED_RECORD_BYTES, frameAppend, sealAppend } from '../../src/log/record';
import { countValidRecords } from '../../src/recovery/count-valid-records';
import { numberedEvents } from '../support/events';
import { readBytes, recordSpans, seededBytes, writeBytes } from '../support/damage';
import { segmentPaths, storePath } from '../support/log-files';
import { logDamage } from '../support/log-damage-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { CLEAN_MARKER, logDirOf, quarantineDirOf } from '../../src/store-layout';

const MiB = 1024 * 1024;

type TornTail = EventStore['recovery']['tornTail'];

/** Copies of a store opened after a torn or damaged last write: what each kept. */
const tornWrites = scenarioState(() => ({
  /** One per subset of the dirty pages that reached the disk. */
  pageOutcomes: [] as Array<{ surviving: number[]; events: number; tornTail: TornTail; all: boolean }>,
  /** One per byte of the last write with a bit flipped. */
  flipOutcomes: [] as Array<{ at: number; events: number; tornTail: TornTail }>,
}));

async function lastSegment(world: EventfoldWorld): Promise<string> {
  return (await segmentPaths(world)).slice(-1)[0];
}

/** Appends `events` with the power cut at their fsync; the append must not be acknowledged. Returns the segment written to. */
async function appendUntilThePowerFails(world: EventfoldWorld, stream: string, events: Parameters<EventStore['append']>[1]): Promise<string> {
  world.disk!.inject({ op: 'datasync', powerLoss: true });
  const outcome = await world.capture(() => world.store!.append(stream, events));
  expect(outcome, 'the write must not be acknowledged').to.equal(undefined);
  expect(world.disk!.isDead).to.equal(true);
  return lastSegment(world);
}

/** Without "on a simulated disk", the disk is the one the Background set up. */
Given(/^a store( on a simulated disk)? holding (\d+) events when the machine stops$/, async function (this: EventfoldWorld, newDisk: string | null, count: string) {
  if (newDisk) this.disk = new SimulatedDisk();
  expect(this.disk, 'a simulated disk (Background: Given the store lives on a simulated disk)').to.not.equal(undefined);
  const store = await this.openStore();
  for (let i = 0; i < Number(count); i++) await store.append(`stream-${i % 7}`, numberedEvents(1, i));
  // No close: the machine stops with the store open (everything acknowledged was fsynced).
  this.disk = this.disk!.powerLoss('keep-unsynced');
  this.store = undefined;
});

When('the machine stopped while the last record was half written, and the store is opened', async function (this: EventfoldWorld) {
  const path = await lastSegment(this);
  const bytes = this.disk!.peek(path);
  const last = recordSpans(bytes).slice(-1)[0];
  this.disk!.overwrite(path, bytes.subarray(0, last.offset + Math.floor(last.length / 2)));
  // The machine stopped instead of closing: there is no clean-shutdown marker.
  await this.disk!.unlink(storePath(this, CLEAN_MARKER));
  await this.disk!.syncDir(this.storeDir);
  await this.openStore();
  expect(this.store!.recovery.tornTail?.bytesTruncated).to.equal(Math.floor(last.length / 2));
});

When('the machine stops after a {int}-event write whose first 4 KiB page never reached the disk', async function (this: EventfoldWorld, count: number) {
  const path = await appendUntilThePowerFails(this, 'invoice-3', numberedEvents(count, 10));
  const dirty = this.disk!.dirtyPages(path);
  expect(dirty.length, 'the write must span several pages').to.be.greaterThan(2);
  this.disk = this.disk!.powerLoss({ survivingPages: dirty.map((_, i) => i).slice(1) });
  this.store = undefined;
});

When(
  'the machine stops while an event carrying a copy of {int} records as its data is written, half of it on the disk',
  async function (this: EventfoldWorld, records: number) {
    // Another store's log, carried as the event's binary data.
    const other = new SimulatedDisk();
    const source = await EventStore.open('/other', { fs: other });
    for (let i = 0; i < records; i++) await source.append('copied', numberedEvents(1, i));
    await source.close();
    const log = other.peek((await other.readdir('/other/log')).map((n) => `/other/log/${n}`).filter((p) => p.endsWith('.seg'))[0]);
    const path = await appendUntilThePowerFails(this, 'archive', [{ type: 'LogArchived', data: { log: new Uint8Array(log) } }]);
    const durable = this.disk!.peek(path).length - this.disk!.unsyncedBytes(path);
    const half = Math.floor(this.disk!.unsyncedBytes(path) / 2);
    const landed = this.disk!.peek(path).subarray(durable, durable + half);
    // The half that lands holds whole, valid records of the other store.
    expect(countValidRecords(landed)).to.be.greaterThan(10);
    this.disk = this.disk!.powerLoss({ tearLastWriteAt: half });
    this.store = undefined;
  },
);

When('the machine stops while a {int} MiB event is written, with one bit of its data flipped', async function (this: EventfoldWorld, mib: number) {
  const data = new Uint8Array(seededBytes(mib * MiB - 1024, 11));
  const path = await appendUntilThePowerFails(this, 'video-1', [{ type: 'Recorded', data: { video: data } }]);
  this.disk = this.disk!.powerLoss('keep-unsynced');
  this.store = undefined;
  const bytes = Buffer.from(this.disk.peek(path));
  bytes[bytes.length - Math.floor(data.length / 2)] ^= 0x04;
  this.disk.overwrite(path, bytes);
  logDamage(this).logBytes = bytes.length;
  logDamage(this).bodyBytesBefore = checkWork.bodyBytes;
});

Then('opening checked at most {int} bytes of record bodies for each byte of the log', async function (this: EventfoldWorld, factor: number) {
  const checked = checkWork.bodyBytes - logDamage(this).bodyBytesBefore;
  const logBytes = logDamage(this).logBytes;
  expect(checked).to.be.at.most(factor * logBytes);
  await this.figures(
    { name: 'log bytes', value: logBytes, unit: 'bytes' },
    { name: 'record body bytes CRC-checked by the open', value: checked, unit: 'bytes' },
    { name: 'open duration', value: Math.round(this.store!.recovery.durationMs), unit: 'ms' },
  );
});

Then(/^the recovery report says (?:all )?(\d+) events? of the torn write (?:was|were) discarded$/, function (this: EventfoldWorld, count: string) {
  expect(this.store!.recovery.tornTail, 'a torn write was cut').to.not.equal(null);
  expect(this.store!.recovery.tornTail!.eventsDiscarded).to.equal(Number(count));
  expect(this.store!.recovery.tornTail!.reason).to.contain('no later write follows it: the last write was damaged or torn; it may have been acknowledged');
});

When('{int} bytes of leftovers and then a whole write of {int} event are added after the last record', async function (this: EventfoldWorld, leftovers: number, count: number) {
  const path = await lastSegment(this);
  const bytes = await readBytes(this, path);
  const spans = recordSpans(bytes);
  const start = bytes.length + leftovers;
  // A write as the store makes it: the next positions, sealed at its place in the segment.
  const framed = frameAppend('later-stream', numberedEvents(count).map((e) => ({ type: e.type, data: e.data })), spans.length, 0, Date.now(), MiB);
  const write = Buffer.from(framed.bytes);
  sealAppend({ bytes: write, recordOffsets: framed.recordOffsets }, start, { start, bytes: write.length }, { position: -1, offset: 0 });
  await writeBytes(this, path, Buffer.concat([bytes, seededBytes(leftovers, 7), write]));
});

Then('the recovery report says the damaged segment was moved to quarantine', function (this: EventfoldWorld) {
  const quarantine = this.store!.recovery.quarantine;
  expect(quarantine, 'a quarantine report').to.not.equal(null);
  expect(quarantine!.files.some((f) => f.includes(logDamage(this).incompleteSegment!.split('/').pop()!))).to.equal(true);
});

Then('the error says how to upgrade: {string}', function (this: EventfoldWorld, text: string) {
  expect((this.lastError as Error).message).to.contain(text);
});

When('one bit flips in the body of the last record of the log', async function (this: EventfoldWorld) {
  const path = await lastSegment(this);
  const bytes = Buffer.from(await readBytes(this, path));
  const last = recordSpans(bytes).slice(-1)[0];
  bytes[last.offset + last.length - 2] ^= 0x01;
  await writeBytes(this, path, bytes);
});

When('the last {int} KiB of the log are zeroed', async function (this: EventfoldWorld, kib: number) {
  const path = await lastSegment(this);
  const bytes = Buffer.from(await readBytes(this, path));
  bytes.fill(0, Math.max(0, bytes.length - kib * 1024));
  await writeBytes(this, path, bytes);
});

When('the last segment is cut to {int} bytes, below its header', async function (this: EventfoldWorld, size: number) {
  const path = await lastSegment(this);
  await writeBytes(this, path, (await readBytes(this, path)).subarray(0, size));
});

When('the last segment file is deleted', async function (this: EventfoldWorld) {
  const paths = await segmentPaths(this);
  expect(paths.length).to.be.greaterThan(1);
  await this.disk!.unlink(paths[paths.length - 1]);
  await this.disk!.syncDir(logDirOf(this.storeDir));
});

When('{int} bytes of leftovers are added after the last record', async function (this: EventfoldWorld, count: number) {
  const path = await lastSegment(this);
  await writeBytes(this, path, Buffer.concat([await readBytes(this, path), seededBytes(count, 5)]));
});

Then('the recovery report quarantined the damage, saying {string}', function (this: EventfoldWorld, text: string) {
  const quarantine = this.store!.recovery.quarantine;
  expect(quarantine, 'the repair must report what it set aside').to.not.equal(null);
  expect(quarantine!.reason).to.contain(text);
});

/** The largest data an event of `mib` MiB can carry: the record's names and msgpack framing take a few bytes of it. */
function bigData(mib: number): Uint8Array {
  return new Uint8Array(seededBytes(mib * MiB - 256, mib));
}

Given("the store's segments roll every {int} KiB", async function (this: EventfoldWorld, kib: number) {
  await this.store!.close();
  this.storeOptions.segmentSize = kib * 1024;
  await this.openStore();
});

When('{string} appends a {int} MiB event', async function (this: EventfoldWorld, stream: string, mib: number) {
  await this.store!.append(stream, [{ type: 'Recorded', data: { video: bigData(mib) } }]);
});

Then('stream {string} holds the {int} MiB event, byte for byte', async function (this: EventfoldWorld, stream: string, mib: number) {
  const events = [];
  for await (const event of this.store!.readStream(stream)) events.push(event);
  expect(events).to.have.length(1);
  const video = (events[0].data as { video: Uint8Array }).video;
  expect(Buffer.from(video).equals(Buffer.from(bigData(mib)))).to.equal(true);
});

When('a store is opened with segments of {int} bytes', async function (this: EventfoldWorld, bytes: number) {
  this.disk = new SimulatedDisk();
  await this.capture(() => this.openStore({ segmentSize: bytes }));
});

Then('the open succeeds', function (this: EventfoldWorld) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
});

Then('the open is refused with an InvalidInputError naming {string}', async function (this: EventfoldWorld, name: string) {
  expect((this.lastError as Error)?.name, String(this.lastError)).to.equal('InvalidInputError');
  expect((this.lastError as Error).message).to.contain(name);
  expect(await this.disk!.exists(logDirOf(this.storeDir)), 'nothing was written').to.equal(false);
});

When('the machine stops after a {int}-event write, and each subset of its dirty pages is what reached the disk', async function (this: EventfoldWorld, count: number) {
  const path = await appendUntilThePowerFails(this, 'invoice-3', numberedEvents(count, 10));
  const pages = this.disk!.dirtyPages(path).length;
  expect(pages, 'the write spans several pages').to.be.within(3, 8);
  const outcomes: Array<{ surviving: number[]; events: number; tornTail: TornTail; all: boolean }> = [];
  for (let mask = 0; mask < 2 ** pages; mask++) {
    const surviving = [...Array(pages).keys()].filter((i) => mask & (1 << i));
    const disk = this.disk!.powerLoss({ survivingPages: surviving });
    const store = await EventStore.open(this.storeDir, { fs: disk });
    let events = 0;
    for await (const _ of store.readStream('invoice-3')) events++;
    outcomes.push({ surviving, events, tornTail: store.recovery.tornTail, all: mask === 2 ** pages - 1 });
    await store.close();
  }
  tornWrites(this).pageOutcomes = outcomes;
  await this.figures({ name: 'page subsets opened', value: outcomes.length, unit: 'subsets' }, { name: 'dirty pages of the write', value: pages, unit: 'pages' });
});

Then('every subset opens with {string} holding either {int} events or all {int}', function (this: EventfoldWorld, _stream: string, before: number, all: number) {
  for (const o of tornWrites(this).pageOutcomes) {
    expect([before, all], `pages ${o.surviving.join(',')} reached the disk`).to.include(o.events);
    if (o.all) expect(o.events, 'every page landed: the write is whole').to.equal(all);
  }
});

Then('every subset that lost part of the write reports the cut', function (this: EventfoldWorld) {
  for (const o of tornWrites(this).pageOutcomes) {
    if (o.events < 110 && o.surviving.length > 0) expect(o.tornTail, `pages ${o.surviving.join(',')} reached the disk`).to.not.equal(null);
  }
});

When('one bit is flipped at each byte of the last write in turn, on copies of the store as the machine left it', async function (this: EventfoldWorld) {
  const path = await lastSegment(this);
  const bytes = this.disk!.peek(path);
  const last = recordSpans(bytes).slice(-1)[0];
  const outcomes: Array<{ at: number; events: number; tornTail: TornTail }> = [];
  for (let at = last.offset; at < last.offset + last.length; at++) {
    const copy = this.disk!.clone();
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 1 << (at % 8);
    copy.overwrite(path, damaged);
    await copy.unlink(storePath(this, CLEAN_MARKER));
    const store = await EventStore.open(this.storeDir, { fs: copy });
    let events = 0;
    for await (const _ of store.readAll()) events++;
    outcomes.push({ at: at - last.offset, events, tornTail: store.recovery.tornTail });
    await store.close();
  }
  tornWrites(this).flipOutcomes = outcomes;
  logDamage(this).lastRecord = last;
  await this.figures({ name: 'damaged copies of the last write opened', value: outcomes.length, unit: 'copies' });
});

Then('every copy opens with the first {int} events', function (this: EventfoldWorld, count: number) {
  for (const o of tornWrites(this).flipOutcomes) expect(o.events, `bit flipped at byte ${o.at} of the write`).to.equal(count);
});

Then("every copy reports the last write's bytes as cut, and its event as discarded whenever its header survived", function (this: EventfoldWorld) {
  const last = logDamage(this).lastRecord!;
  for (const o of tornWrites(this).flipOutcomes) {
    expect(o.tornTail?.bytesTruncated, `bit flipped at byte ${o.at}`).to.equal(last.length);
    expect(o.tornTail?.eventsDiscarded, `bit flipped at byte ${o.at}`).to.equal(o.at < FIXED_RECORD_BYTES ? 0 : 1);
  }
});

Given('subscription {string} has handled all {int} events and stopped', async function (this: EventfoldWorld, name: string, count: number) {
  const subscription = await this.store!.subscribe(name, () => undefined);
  await subscription.waitFor(count - 1);
  await subscription.stop();
});

Then('subscription {string} resumes after position {int}', async function (this: EventfoldWorld, name: string, position: number) {
  const handled: number[] = [];
  const subscription = await this.store!.subscribe(name, (event) => {
    handled.push(event.position);
  });
  await this.store!.append('after-the-cut', numberedEvents(1));
  await subscription.waitFor(position + 1);
  await subscription.stop();
  expect(handled).to.deep.equal([position + 1]);
});

Then('the quarantined bytes are still in quarantine', async function (this: EventfoldWorld) {
  const names = await this.disk!.readdir(quarantineDirOf(this.storeDir));
  expect(names.length, 'quarantine files').to.be.greaterThan(0);
});
