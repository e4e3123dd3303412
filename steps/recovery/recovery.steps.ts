import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import CRC32 from 'crc-32';
import { CorruptionError, EventStore, SimulatedDisk, type RecordedEvent } from '../../src/index';
import { AT_BODY_CRC, AT_HEADER_CRC, AT_LENGTH, AT_POSITION, FIXED_RECORD_BYTES, headerCrcOf, writeU64 } from '../../src/log/record';
import { AT_FILE_CRC, AT_FILE_VERSION, fileHeaderCrc } from '../../src/log/file-header';
import { encodeSegmentHeader, segmentName } from '../../src/log/segment-file';
import { countValidRecords } from '../../src/recovery/count-valid-records';
import { assertGapless, collect, numberedEvents, readAllEvents } from '../support/events';
import { readBytes, recordSpans, seededBytes, writeBytes, type RecordSpan } from '../support/damage';
import { segmentPaths, storePath } from '../support/log-files';
import { logDamage } from '../support/log-damage-state';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import { CLEAN_MARKER, logDirOf } from '../../src/store-layout';

async function lastSegment(world: EventfoldWorld): Promise<string> {
  return (await segmentPaths(world)).slice(-1)[0];
}

async function recordOf(world: EventfoldWorld, n: number, segmentIndex = 0): Promise<{ path: string; span: RecordSpan; bytes: Buffer }> {
  const path = (await segmentPaths(world))[segmentIndex];
  const bytes = await readBytes(world, path);
  const spans = recordSpans(bytes);
  return { path, span: spans[n === -1 ? spans.length - 1 : n - 1], bytes };
}

Given(
  /^a store( on a simulated disk)?(?: whose segments roll every (\d+) KiB,)? holding (\d+) events(?:, one per append)?$/,
  async function (this: EventfoldWorld, simulated: string | null, kib: string | null, count: string) {
    if (simulated) this.disk = new SimulatedDisk();
    if (kib) this.storeOptions.segmentSize = Number(kib) * 1024;
    const store = await this.openStore();
    for (let i = 0; i < Number(count); i++) await store.append(`stream-${i % 7}`, numberedEvents(1, i));
    await store.close();
    this.store = undefined;
  },
);

/** Without "on a simulated disk", the disk is the one the Background set up. */
Given(/^a store( on a simulated disk)? holding (\d+) events and then (\d+) more event in its own append$/, async function (this: EventfoldWorld, newDisk: string | null, first: string, more: string) {
  if (newDisk) this.disk = new SimulatedDisk();
  expect(this.disk, 'a simulated disk (Background: Given the store lives on a simulated disk)').to.not.equal(undefined);
  const store = await this.openStore();
  await store.append('ledger', numberedEvents(Number(first)));
  await store.append('ledger', numberedEvents(Number(more), Number(first)));
  await store.close();
  this.store = undefined;
});

Given('a directory whose only segment file is empty', async function (this: EventfoldWorld) {
  expect(this.disk, 'a simulated disk (Background: Given the store lives on a simulated disk)').to.not.equal(undefined);
  await this.disk!.mkdirp(logDirOf(this.storeDir));
  await (await this.disk!.create(`${logDirOf(this.storeDir)}/${segmentName(0)}`)).close();
});

/** Opens the store (again), keeping what the open throws; `with repair "truncate"` or `with verifyOnOpen "full"` sets that one option. */
When(/^the store is opened(?: again)?(?: with (repair|verifyOnOpen) "([^"]+)")?$/, async function (this: EventfoldWorld, option: 'repair' | 'verifyOnOpen' | null | undefined, value: string | null | undefined) {
  await this.capture(() => this.openStore(option ? { [option]: value } : {}));
});

/** A cut copy of the store, opened: how many bytes of the last record it kept and what the open made of it. */
interface CutCopy {
  kept: number;
  events: RecordedEvent[];
  tornBytes: number;
  lengthAfterOpen: number;
  unsyncedAfterOpen: number;
}

const cutCopies = scenarioState(() => ({ outcomes: [] as CutCopy[] }));

When('the log is cut at every byte offset of the last record, and each cut copy is opened', async function (this: EventfoldWorld) {
  const path = await lastSegment(this);
  const bytes = this.disk!.peek(path);
  const last = recordSpans(bytes).slice(-1)[0];
  const outcomes: CutCopy[] = [];
  for (let kept = 0; kept < last.length; kept++) {
    const copy = this.disk!.clone();
    copy.overwrite(path, bytes.subarray(0, last.offset + kept));
    await copy.unlink(storePath(this, CLEAN_MARKER));
    const store = await EventStore.open(this.storeDir, { fs: copy });
    outcomes.push({
      kept,
      events: await readAllEvents(store),
      tornBytes: store.recovery.tornTail?.bytesTruncated ?? 0,
      lengthAfterOpen: copy.peek(path).length,
      unsyncedAfterOpen: copy.unsyncedBytes(path),
    });
    await store.close();
  }
  cutCopies(this).outcomes = outcomes;
  logDamage(this).lastRecord = last;
  await this.figures({ name: 'cut copies opened', value: outcomes.length, unit: 'copies' });
});

Then('every cut copy opens with the first {int} events', function (this: EventfoldWorld, count: number) {
  for (const cut of cutCopies(this).outcomes) {
    expect(cut.events, `cut keeping ${cut.kept} bytes`).to.have.length(count);
    assertGapless(cut.events as never);
  }
});

Then('every cut copy reports exactly the bytes of the torn record it truncated', function (this: EventfoldWorld) {
  for (const cut of cutCopies(this).outcomes) {
    expect(cut.tornBytes, `cut keeping ${cut.kept} bytes`).to.equal(cut.kept);
  }
});

Then('in every cut copy the truncation was synced before the store accepted an append', function (this: EventfoldWorld) {
  const last = logDamage(this).lastRecord!;
  for (const cut of cutCopies(this).outcomes) {
    expect(cut.lengthAfterOpen, `cut keeping ${cut.kept} bytes`).to.equal(last.offset);
    expect(cut.unsyncedAfterOpen, `cut keeping ${cut.kept} bytes`).to.equal(0);
  }
});

When('the log is cut in the middle of the last record and opened', async function (this: EventfoldWorld) {
  const path = await lastSegment(this);
  const bytes = this.disk!.peek(path);
  const last = recordSpans(bytes).slice(-1)[0];
  this.disk!.overwrite(path, bytes.subarray(0, last.offset + Math.floor(last.length / 2)));
  await this.openStore();
  expect(this.store!.recovery.tornTail?.bytesTruncated).to.equal(Math.floor(last.length / 2));
});

When('{int} more events are appended and acknowledged', async function (this: EventfoldWorld, count: number) {
  await this.store!.append('ledger', numberedEvents(count, 100));
});

Then('the recovery report shows no torn tail', function (this: EventfoldWorld) {
  expect(this.store!.recovery.tornTail).to.equal(null);
});

async function addAfterLastRecord(world: EventfoldWorld, extra: Buffer): Promise<void> {
  const path = await lastSegment(world);
  await writeBytes(world, path, Buffer.concat([await readBytes(world, path), extra]));
}

When('{int} zero bytes are added after the last record', async function (this: EventfoldWorld, count: number) {
  await addAfterLastRecord(this, Buffer.alloc(count));
});

When('{int} bytes of leftovers with no valid record are added after the last record', async function (this: EventfoldWorld, count: number) {
  const leftovers = seededBytes(count, 42);
  expect(countValidRecords(leftovers)).to.equal(0);
  await addAfterLastRecord(this, leftovers);
});

When('{int} bytes of leftovers and then a copy of a valid record are added after the last record', async function (this: EventfoldWorld, count: number) {
  const { span, bytes } = await recordOf(this, -1);
  await addAfterLastRecord(this, Buffer.concat([seededBytes(count, 7), bytes.subarray(span.offset, span.offset + span.length)]));
});

Then('the recovery report says {int} bytes of torn tail were truncated', function (this: EventfoldWorld, bytes: number) {
  expect(this.lastError, String(this.lastError)).to.equal(undefined);
  expect(this.store!.recovery.tornTail?.bytesTruncated).to.equal(bytes);
});

Then('the last segment ends exactly where the {int}th event ends', async function (this: EventfoldWorld, count: number) {
  const bytes = await readBytes(this, await lastSegment(this));
  const spans = recordSpans(bytes);
  expect(spans).to.have.length(count);
  const last = spans[spans.length - 1];
  expect(bytes.length).to.equal(last.offset + last.length);
});

When(/^one bit flips in the body of (?:record (\d+)|the last record of the first segment)$/, async function (this: EventfoldWorld, n: string | null) {
  const { path, span, bytes } = await recordOf(this, n ? Number(n) : -1, 0);
  const damaged = Buffer.from(bytes);
  // A byte of the body (the stream's name): only the body CRC can tell.
  const insideTheBody = span.offset + FIXED_RECORD_BYTES + 4;
  damaged[insideTheBody] ^= 0x10;
  await writeBytes(this, path, damaged);
  logDamage(this).damage = { path, span, storedCrc: bytes.readUInt32LE(span.offset + AT_BODY_CRC), damaged };
});

Then('the open fails with a CorruptionError naming the segment file and the offset of record {int}', function (this: EventfoldWorld, _n: number) {
  const damage = logDamage(this).damage!;
  const error = this.lastError as CorruptionError;
  expect(error).to.be.instanceOf(CorruptionError);
  expect(error.file).to.equal(`log/${damage.path.split('/').pop()}`);
  expect(error.offset).to.equal(damage.span.offset);
  expect(error.message).to.contain(`at byte offset ${damage.span.offset}`);
});

Then('the error gives the expected and the actual CRC of record {int}', function (this: EventfoldWorld, _n: number) {
  const damage = logDamage(this).damage!;
  const error = this.lastError as CorruptionError;
  const body = damage.damaged.subarray(damage.span.offset + FIXED_RECORD_BYTES, damage.span.offset + damage.span.length);
  expect(error.expectedCrc).to.equal(damage.storedCrc);
  expect(error.actualCrc).to.equal(CRC32.buf(body) >>> 0);
  expect(error.actualCrc).to.not.equal(error.expectedCrc);
});

Then('the recovery report says {int} records and the bytes from record {int} on were quarantined', async function (this: EventfoldWorld, records: number, _n: number) {
  const damage = logDamage(this).damage!;
  const quarantine = this.store!.recovery.quarantine!;
  expect(quarantine.records).to.equal(records);
  expect(quarantine.bytes).to.equal(damage.damaged.length - damage.span.offset);
  expect(quarantine.cutOffset).to.equal(damage.span.offset);
  await this.figures({ name: 'bytes quarantined', value: quarantine.bytes, unit: 'bytes' }, { name: 'records quarantined', value: quarantine.records, unit: 'records' });
});

Then('the quarantine file holds exactly the bytes cut from the log', async function (this: EventfoldWorld) {
  const damage = logDamage(this).damage!;
  const [file] = this.store!.recovery.quarantine!.files;
  const kept = await readBytes(this, storePath(this, ...file.split('/')));
  expect(kept.equals(damage.damaged.subarray(damage.span.offset))).to.equal(true);
});

Then('{int} more event can be appended at position {int}', async function (this: EventfoldWorld, count: number, position: number) {
  const result = await this.store!.append('after-repair', numberedEvents(count));
  expect(result.position).to.equal(position + count - 1);
});

When('the length field of record {int} is set to {int}', async function (this: EventfoldWorld, n: number, length: number) {
  const { path, span, bytes } = await recordOf(this, n);
  const damaged = Buffer.from(bytes);
  damaged.writeUInt32LE(length, span.offset + AT_LENGTH);
  await writeBytes(this, path, damaged);
});

Then('opening allocated less than {int} MiB of buffers', async function (this: EventfoldWorld, mib: number) {
  expect(this.disk!.largestRead).to.be.lessThan(mib * 1024 * 1024);
  await this.figures({ name: 'largest read while opening', value: this.disk!.largestRead, unit: 'bytes' });
});

When('record {int} is rewritten with a valid checksum but position {int}', async function (this: EventfoldWorld, n: number, position: number) {
  const { path, span, bytes } = await recordOf(this, n);
  // Position is a u64 of the record header (src/log/FORMAT.md); the header CRC is then made to match.
  const damaged = Buffer.from(bytes);
  writeU64(damaged, position, span.offset + AT_POSITION);
  damaged.writeUInt32LE(headerCrcOf(damaged, span.offset), span.offset + AT_HEADER_CRC);
  await writeBytes(this, path, damaged);
});

When('the second segment file is deleted', async function (this: EventfoldWorld) {
  const paths = await segmentPaths(this);
  expect(paths.length).to.be.greaterThanOrEqual(3);
  await this.disk!.unlink(paths[1]);
});

When('the format version in the segment header is changed to {int}', async function (this: EventfoldWorld, version: number) {
  const path = (await segmentPaths(this))[0];
  const bytes = Buffer.from(await readBytes(this, path));
  bytes.writeUInt16LE(version, AT_FILE_VERSION);
  bytes.writeUInt32LE(fileHeaderCrc(bytes), AT_FILE_CRC);
  await writeBytes(this, path, bytes);
});

When('a new segment file with only {int} bytes of its header is left after the last one', async function (this: EventfoldWorld, count: number) {
  const name = segmentName(200);
  const handle = await this.disk!.create(`${logDirOf(this.storeDir)}/${name}`);
  await handle.write(encodeSegmentHeader(200).subarray(0, count), 0);
  await handle.close();
  logDamage(this).incompleteSegment = `log/${name}`;
});

Then('the positions run from 0 without a gap', async function (this: EventfoldWorld) {
  const events = await collect(this.store!.readAll());
  assertGapless(events);
  expect(events.length).to.equal(this.store!.position + 1);
});
