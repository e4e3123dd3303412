import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CorruptionError, EventStore } from '../../src/index';
import { crc32Range } from '../../src/log/crc';
import { AT_BODY_CRC, AT_HEADER_CRC, FIXED_RECORD_BYTES, headerCrcOf } from '../../src/log/record';
import { readBytes, recordSpans, writeBytes } from '../support/damage';
import { segmentPaths } from '../support/log-files';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/**
 * features/recovery/corruption.feature, "Bytes that pass their checksums but
 * are not data as eventfold writes it": the first event's data (a string of
 * 20 letters, 21 bytes of msgpack) replaced by other bytes of the same
 * length, both CRCs of its record recomputed.
 */
const LETTERS = 'abcdefghijklmnopqrst';

/** 21 bytes each, as the data they replace. */
const NOT_DATA: Record<string, number[]> = {
  'a value followed by bytes that belong to no value': Array(21).fill(0xc0),
  'a list cut short': [0x92, 0xd9, 0x20, ...Buffer.from('w'.repeat(18))],
  'a msgpack extension eventfold never writes': [0x92, 0xd4, 0x72, 0x01, 0xd9, 0x0f, ...Buffer.from('z'.repeat(15))],
};

const forged = scenarioState(() => ({ stream: '', recordOffset: -1, segment: '' }));

Given('a closed store holding the events {string} and {string} in stream {string}', async function (this: EventfoldWorld, first: string, second: string, stream: string) {
  const store = await EventStore.open(this.storeDir);
  await store.append(stream, [{ type: first, data: LETTERS }]);
  await store.append(stream, [{ type: second, data: 'after' }]);
  await store.close();
  forged(this).stream = stream;
});

When('the data of the first event is replaced by {} of the same length, with its checksums made to match', async function (this: EventfoldWorld, what: string) {
  await replaceFirstData(this, what);
});

async function replaceFirstData(world: EventfoldWorld, what: string): Promise<void> {
  const replacement = NOT_DATA[what];
  expect(replacement, `bytes for "${what}"`).to.not.equal(undefined);
  const [segment] = await segmentPaths(world);
  const bytes = Buffer.from(await readBytes(world, segment));
  const [record] = recordSpans(bytes);
  const end = record.offset + record.length;
  const data = end - replacement.length;
  // The record ends with its data: a msgpack string of the 20 letters (0xb4, then the letters).
  expect(bytes.subarray(data, end).equals(Buffer.from([0xb4, ...Buffer.from(LETTERS)]))).to.equal(true);
  bytes.set(replacement, data);
  bytes.writeUInt32LE(crc32Range(bytes, record.offset + FIXED_RECORD_BYTES, end), record.offset + AT_BODY_CRC);
  bytes.writeUInt32LE(headerCrcOf(bytes, record.offset), record.offset + AT_HEADER_CRC);
  await writeBytes(world, segment, bytes);
  Object.assign(forged(world), { recordOffset: record.offset, segment: segment.slice(segment.lastIndexOf('/log/') + 1) });
}

Then(
  'reading all events, reading them a page at a time and reading stream {string} each fail with a CorruptionError naming the first event\'s record and saying its data is not msgpack as eventfold writes it',
  async function (this: EventfoldWorld, stream: string) {
    const { recordOffset, segment } = forged(this);
    const store = await EventStore.open(this.storeDir);
    try {
      const reads: Record<string, () => Promise<unknown>> = {
        readAll: async () => {
          for await (const _ of store.readAll());
        },
        readAllPages: async () => {
          for await (const _ of store.readAllPages());
        },
        readStream: async () => {
          for await (const _ of store.readStream(stream));
        },
      };
      for (const [how, read] of Object.entries(reads)) {
        const failure = await read().then(
          () => null,
          (error: unknown) => error,
        );
        expect(failure, how).to.be.instanceOf(CorruptionError);
        const corruption = failure as CorruptionError;
        expect(corruption.file, how).to.equal(segment);
        expect(corruption.offset, how).to.equal(recordOffset);
        expect(corruption.reason, how).to.contain('not msgpack as eventfold writes it');
      }
    } finally {
      await store.close();
    }
  },
);
