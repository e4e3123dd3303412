import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import {
  AT_BATCH_BYTES,
  AT_BATCH_START,
  AT_FLAGS,
  AT_HEADER_CRC,
  AT_ID_BYTES,
  AT_LENGTH,
  AT_STREAM_BYTES,
  AT_TYPE_BYTES,
  checkWork,
  FIXED_RECORD_BYTES,
  FLAG_COMMIT,
  frameAppend,
  GENERATED_ID_BYTES,
  headerCrcOf,
  isValidHeader,
  sealAppend,
} from '../../src/log/record';
import { countValidRecords } from '../../src/recovery/count-valid-records';
import { segmentPaths } from '../support/log-files';
import { logDamage } from '../support/log-damage-state';
import { scenarioState } from '../support/scenario-state';

/** The segment as it landed after the forged-tail crash, for counting its records. */
const landed = scenarioState(() => ({ tail: undefined as Buffer | undefined }));
import type { EventfoldWorld } from '../support/world';

const MiB = 1024 * 1024;

/** A record of a new stream with `position`, sealed as if it began a write of its own at `fileOffset`. */
function recordStartingItsOwnWrite(fileOffset: number, position: number): Buffer {
  const framed = frameAppend('forged', [{ type: 'Forged', data: { a: 1 }, id: 'forged' }], position, 0, Date.now(), 1 << 24);
  const copy = { bytes: Buffer.from(framed.bytes), recordOffsets: framed.recordOffsets };
  sealAppend(copy, fileOffset, { start: fileOffset, bytes: copy.bytes.length }, { position: -1, offset: 0 });
  return copy.bytes;
}

When(
  'the machine stops while a {int} MiB upload is written, half of it on the disk, its data holding a record that claims to start the next write',
  async function (this: EventfoldWorld, mib: number) {
    const disk = this.disk!;
    const path = (await segmentPaths(this)).slice(-1)[0];
    const writeStart = disk.peek(path).length;
    const stream = 'uploads';
    const type = 'FileUploaded';
    // The event's data lands after its record header, stream, type, generated id and msgpack's 5-byte bin 32 marker.
    const BIN32_MARKER_BYTES = 5;
    const dataAt = writeStart + FIXED_RECORD_BYTES + stream.length + type.length + GENERATED_ID_BYTES + BIN32_MARKER_BYTES;
    const upload = Buffer.alloc(mib * MiB, 0x41);
    const inside = 4096;
    recordStartingItsOwnWrite(dataAt + inside, this.store!.position + 1).copy(upload, inside);
    disk.inject({ op: 'datasync', path: '.seg', powerLoss: true });
    const outcome = await this.capture(() => this.store!.append(stream, [{ type, data: upload }]));
    expect(outcome, 'the upload must not be acknowledged').to.equal(undefined);
    const landed = disk.peek(path);
    expect(isValidHeader(Buffer.from(landed), dataAt + inside, dataAt + inside), 'the forged record sits where it claims its write starts').to.equal(true);
    this.disk = disk.powerLoss({ tearLastWriteFraction: 0.5 });
    this.store = undefined;
  },
);

/**
 * A 64-byte record header (layout: FORMAT.md, "Record") that passes its header
 * CRC, claims a body of `claimedLength` bytes and names write 0 covering any
 * offset; its body CRC can never pass.
 */
function headerClaimingALongBody(claimedLength: number): Buffer {
  const header = Buffer.alloc(FIXED_RECORD_BYTES);
  header.writeUInt32LE(claimedLength, AT_LENGTH);
  header[AT_FLAGS] = FLAG_COMMIT;
  header.writeUInt16LE(1, AT_STREAM_BYTES);
  header.writeUInt16LE(1, AT_TYPE_BYTES);
  header.writeUInt16LE(1, AT_ID_BYTES);
  header.writeUInt32LE(0, AT_BATCH_START);
  header.writeUInt32LE(0xffffffff, AT_BATCH_BYTES);
  header.writeUInt32LE(headerCrcOf(header, 0), AT_HEADER_CRC);
  return header;
}

When(
  'the machine stops while a {int} MiB event is written whose data repeats a record header claiming a body of half its size',
  async function (this: EventfoldWorld, mib: number) {
    const disk = this.disk!;
    const data = Buffer.alloc(mib * MiB);
    const header = headerClaimingALongBody(data.length / 2);
    for (let at = 0; at + FIXED_RECORD_BYTES <= data.length; at += FIXED_RECORD_BYTES) header.copy(data, at);
    expect(isValidHeader(header, 0, 1 << 20), 'each copy passes its header CRC').to.equal(true);
    disk.inject({ op: 'datasync', path: '.seg', powerLoss: true });
    const outcome = await this.capture(() => this.store!.append('video-1', [{ type: 'Recorded', data }]));
    expect(outcome, 'the event must not be acknowledged').to.equal(undefined);
    this.disk = disk.powerLoss({ tearLastWriteFraction: 0.999 });
    this.store = undefined;
    const path = (await segmentPaths(this)).slice(-1)[0];
    logDamage(this).logBytes = this.disk.peek(path).length;
    logDamage(this).bodyBytesBefore = checkWork.bodyBytes;
    landed(this).tail = Buffer.from(this.disk.peek(path));
  },
);

Then('counting the records in the log, as a repair does for the bytes it sets aside, checked at most {int} bytes of record bodies for each byte', function (this: EventfoldWorld, factor: number) {
  const bytes = landed(this).tail!;
  const before = checkWork.bodyBytes;
  countValidRecords(bytes);
  expect(checkWork.bodyBytes - before).to.be.at.most(factor * bytes.length);
});

Then(/^the recovery report (says|never says) of the cut write: "(.*)"$/, function (this: EventfoldWorld, says: string, text: string) {
  expect(this.store!.recovery.tornTail, 'a write was cut').to.not.equal(null);
  if (says === 'says') expect(this.store!.recovery.tornTail!.reason).to.contain(text);
  else expect(this.store!.recovery.tornTail!.reason).to.not.contain(text);
});
