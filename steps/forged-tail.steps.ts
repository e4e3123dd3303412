import { When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { frameAppend, isValidHeader, sealAppend } from '../src/log/record';
import { segmentPaths } from './support/log-files';
import type { EventfoldWorld } from './support/world';

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
    // The event's data lands after its record header (64 bytes), stream, type, 16-byte id and a 5-byte binary marker.
    const dataAt = writeStart + 64 + stream.length + type.length + 16 + 5;
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
