import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CorruptionError } from '../../src/index';
import { decodeHeader } from '../../src/log/record';
import { withNameTable, type StreamColumns } from '../../src/log/stream-index';
import { encodeNames, StreamNameTable } from '../../src/log/stream-name-table';
import { snapshotName } from '../../src/snapshot/snapshot-file';
import { snapshotFile } from '../../src/store-layout';
import { recordSpans } from '../support/damage';
import { numberedEvents } from '../support/events';
import { segmentPaths } from '../support/log-files';
import { rewriteSnapshot } from '../support/snapshot-files';
import type { EventfoldWorld } from '../support/world';

Given('{string} appends {int} events and a checkpoint is taken, at position {int}', async function (this: EventfoldWorld, stream: string, count: number, position: number) {
  await this.openStore();
  await this.store!.append(stream, numberedEvents(count, this.store!.position + 1));
  expect((await this.store!.checkpoint())!.position).to.equal(position);
  await this.store!.close();
});

Given('{string} holds {int} events and {string} {int} events', async function (this: EventfoldWorld, a: string, countA: number, b: string, countB: number) {
  await this.store!.append(a, numberedEvents(countA, this.store!.position + 1));
  await this.store!.append(b, numberedEvents(countB, this.store!.position + 1));
});

/** One row per stream, as a snapshot's columns hold them, with its name as a string. */
interface Row {
  name: string;
  version: number;
  position: number;
  offset: number;
}

function rowsOf(streams: StreamColumns): Row[] {
  const text = Buffer.from(streams.nameBytes);
  return Array.from(streams.nameEnds, (end, i) => ({
    name: text.toString('utf8', i === 0 ? 0 : streams.nameEnds[i - 1], end),
    version: streams.versions[i],
    position: streams.positions[i],
    offset: streams.offsets[i],
  }));
}

/** Columns of `rows`, with a hash table made for `tableNames` (the rows' own names unless a lie says otherwise). */
function columnsOf(rows: Row[], tableNames = rows.map((row) => row.name)): StreamColumns {
  const named = encodeNames(tableNames);
  const { table } = withNameTable({ nameBytes: named.bytes, nameEnds: named.ends, versions: new Float64Array(0), positions: new Float64Array(0), offsets: new Uint32Array(0) });
  const { bytes, ends } = encodeNames(rows.map((row) => row.name));
  return {
    nameBytes: bytes,
    nameEnds: ends,
    versions: Float64Array.from(rows, (row) => row.version),
    positions: Float64Array.from(rows, (row) => row.position),
    offsets: Uint32Array.from(rows, (row) => row.offset),
    table,
  };
}

/** The position and byte offset of `stream`'s event of `version` (the store has one segment). */
async function placeOf(world: EventfoldWorld, stream: string, version: number): Promise<{ position: number; offset: number }> {
  const [segment] = await segmentPaths(world);
  const bytes = readFileSync(segment);
  for (const { offset } of recordSpans(bytes)) {
    const header = decodeHeader(bytes, offset);
    if (header.stream === stream && header.version === version) return { position: header.position, offset };
  }
  throw new Error(`no event of ${stream} at version ${version}`);
}

When(/^the snapshot at position (\d+) is rewritten with a valid checksum so that it (.+)$/, async function (this: EventfoldWorld, at: string, lie: string) {
  const position = Number(at);
  let change: (streams: StreamColumns) => StreamColumns;
  let match: RegExpExecArray | null;
  if ((match = /^says "([^"]+)" ends at version (\d+)$/.exec(lie))) {
    const [, stream, version] = match;
    // A lie that holds together: the version, position and offset of that earlier event, so reads follow it.
    const place = await placeOf(this, stream, Number(version));
    change = (streams) => columnsOf(rowsOf(streams).map((row) => (row.name === stream ? { ...row, version: Number(version), ...place } : row)));
  } else if ((match = /^has no stream "([^"]+)"$/.exec(lie))) {
    const [, stream] = match;
    change = (streams) => columnsOf(rowsOf(streams).filter((row) => row.name !== stream));
  } else if ((match = /^has a name table that cannot find "([^"]+)"$/.exec(lie))) {
    const [, stream] = match;
    change = (streams) => {
      // The stream's slot moves to the next empty slot after it: the table still holds each row once, but a probe for the name stops before it.
      const slots = Int32Array.from(streams.table!.slots);
      const size = slots.length / 2;
      const row = rowsOf(streams).findIndex((r) => r.name === stream);
      const from = Array.from({ length: size }, (_, slot) => slot).find((slot) => slots[2 * slot + 1] === row + 1)!;
      let to = (from + 1) % size;
      while (slots[2 * to + 1] !== 0) to = (to + 1) % size;
      slots[2 * to] = slots[2 * from];
      slots[2 * to + 1] = row + 1;
      slots[2 * from] = slots[2 * from + 1] = 0;
      const table = { basis: streams.table!.basis, slots };
      expect(new StreamNameTable(streams.nameBytes, streams.nameEnds, table).find(stream), 'the moved slot is out of the probe').to.equal(-1);
      return { ...streams, table };
    };
  } else if ((match = /^names "([^"]+)" twice$/.exec(lie))) {
    const [, stream] = match;
    // The first other stream's row takes the name; the table is made over the names as they were, so that each row is in it once.
    change = (streams) => {
      const rows = rowsOf(streams);
      const other = rows.findIndex((row) => row.name !== stream);
      return columnsOf(
        rows.map((row, i) => (i === other ? { ...row, name: stream } : row)),
        rows.map((row) => row.name),
      );
    };
  } else if ((match = /^holds a stream "([^"]+)" the log never had, at version (\d+) and position (\d+)$/.exec(lie))) {
    const [, stream, version, place] = match;
    change = (streams) => columnsOf([...rowsOf(streams), { name: stream, version: Number(version), position: Number(place), offset: 32 }]);
  } else {
    expect.fail(`unknown lie "${lie}"`);
  }
  rewriteSnapshot(this, position, (contents) => {
    contents.streams = change(contents.streams);
  });
});

Then('the background check reports a CorruptionError naming the snapshot at position {int} and saying {string}', async function (this: EventfoldWorld, position: number, text: string) {
  const health = await this.store!.verified();
  expect(health.log).to.equal('damaged');
  expect(health.problem).to.be.instanceOf(CorruptionError);
  expect(health.problem!.file).to.equal(snapshotFile(snapshotName(position)));
  expect(health.problem!.message).to.contain(text);
});

Then('the open fails with a CorruptionError naming the snapshot at position {int} and saying {string}', function (this: EventfoldWorld, position: number, text: string) {
  const error = this.lastError as CorruptionError;
  expect(error).to.be.instanceOf(CorruptionError);
  expect(error.file).to.equal(snapshotFile(snapshotName(position)));
  expect(error.message).to.contain(text);
});

Given('{int} streams of 1 event each are appended, and a checkpoint is taken at position {int}', async function (this: EventfoldWorld, streams: number, position: number) {
  await this.openStore();
  const first = this.store!.position + 1;
  // Many appends in flight, so that group commit makes few writes of them.
  for (let done = 0; done < streams; done += 5000) {
    const appends = Array.from({ length: Math.min(5000, streams - done) }, (_, i) => this.store!.append(`s-${done + i}`, numberedEvents(1, first + done + i)));
    await Promise.all(appends);
  }
  expect((await this.store!.checkpoint())!.position).to.equal(position);
  await this.store!.close();
});
