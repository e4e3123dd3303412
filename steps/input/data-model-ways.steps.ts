import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { payloadCodec } from '../../src/log/payload-codec';
import type { AppendResult, EventStore, Projection } from '../../src/index';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

/** How the object reached the store, and so where to look for it after the reopen. */
const storedWay = scenarioState(() => ({ way: '', expected: undefined as unknown }));

/** A projection that keeps the object of the last "Kept" event in its state. */
const keeping: Projection<{ kept: unknown }> = {
  version: 1,
  initialState: { kept: null },
  evolve(draft, event) {
    if (event.type === 'Kept') draft.kept = event.data;
  },
};

/** Each way in, as the application would call it. */
const WAYS: Record<string, (store: EventStore, value: () => unknown) => Promise<void>> = {
  "as an event's data": async (store, value) => {
    await store.append('kept', [{ type: 'Kept', data: value() }]);
  },
  'as event data appended while another append is checked': async (store, value) => {
    const inner: Array<Promise<AppendResult>> = [];
    const outer = {
      get reason() {
        inner.push(store.append('kept', [{ type: 'Kept', data: value() }]));
        return 'audit';
      },
    };
    await store.append('outer', [{ type: 'Checked', data: outer }]);
    expect(inner.length, 'the getter appended').to.be.greaterThan(0);
    await Promise.all(inner);
  },
  "as a stream's custom metadata": async (store, value) => {
    await store.setStreamMetadata('kept', { custom: value() as Record<string, unknown> });
  },
  "in a projection's state taken into a snapshot": async (store, value) => {
    await store.append('kept', [{ type: 'Kept', data: value() }]);
    expect(await store.checkpoint(), 'a snapshot was taken').to.not.equal(null);
  },
};

When(
  'an object whose {string} key holds {int} and whose {string} key holds {string} is stored {}',
  async function (this: EventfoldWorld, firstKey: string, first: number, secondKey: string, second: string, way: string) {
    const store = WAYS[way];
    expect(store, `a way called ${way}`).to.be.a('function');
    const value = (): Record<string, unknown> => ({ [firstKey]: first, [secondKey]: second });
    Object.assign(storedWay(this), { way, expected: value() });
    if (way.includes('snapshot')) {
      await this.store!.close();
      await this.openStore({ projections: { keeping } });
    }
    await store(this.store!, value);
  },
);

Then('after a reopen that object reads back exactly', async function (this: EventfoldWorld) {
  const { way, expected } = storedWay(this);
  const snapshotted = way.includes('snapshot');
  await this.store!.close();
  await this.openStore(snapshotted ? { projections: { keeping } } : {});
  if (way.includes('metadata')) {
    expect(this.store!.getStreamMetadata('kept').custom).to.deep.equal(expected);
    return;
  }
  if (snapshotted) {
    expect((this.store!.state('keeping') as { kept: unknown }).kept).to.deep.equal(expected);
    return;
  }
  const read = [];
  for await (const event of this.store!.readStream('kept')) read.push(event.data);
  expect(read.length, 'events of "kept"').to.be.greaterThan(0);
  for (const data of read) expect(data).to.deep.equal(expected);
});

/** The msgpack bytes of the proxy's data and of its plain copy, as the log should hold them. */
const proxyBytes = scenarioState(() => ({ plainCopy: Buffer.alloc(0), listedOrder: Buffer.alloc(0) }));

When(
  'an event is appended whose data is a proxy listing the key {string} \\(holding {int}) before the key {string} \\(holding {int})',
  async function (this: EventfoldWorld, name: string, nameValue: number, number: string, numberValue: number) {
    const data = new Proxy({ [name]: nameValue, [number]: numberValue }, { ownKeys: () => [name, number] });
    const plainCopy = { ...data };
    expect(Object.keys(plainCopy), 'a plain copy puts the number first').to.deep.equal([number, name]);
    // The bytes msgpack gives each order (a map of 16-bit size, as the store writes every object).
    const map = (entries: Array<[string, number]>) => Buffer.concat([Buffer.from([0xde, 0, entries.length]), ...entries.map(([k, v]) => Buffer.concat([payloadCodec.pack(k), payloadCodec.pack(v)]))]);
    proxyBytes(this).plainCopy = map(Object.entries(plainCopy));
    proxyBytes(this).listedOrder = map([[name, nameValue], [number, numberValue]]);
    expect(payloadCodec.pack(plainCopy).equals(proxyBytes(this).plainCopy), 'msgpack writes the plain copy so').to.equal(true);
    await this.store!.append('proxied', [{ type: 'Listed', data }]);
  },
);

Then('the log holds that data byte for byte as msgpack writes its plain copy, the key {string} first', async function (this: EventfoldWorld, _number: string) {
  await this.store!.close();
  const logDir = join(this.storeDir, 'log');
  const log = Buffer.concat(readdirSync(logDir).map((file) => readFileSync(join(logDir, file))));
  const { plainCopy, listedOrder } = proxyBytes(this);
  expect(log.includes(plainCopy), 'the plain copy\'s bytes are in the log').to.equal(true);
  expect(log.includes(listedOrder), 'the proxy\'s listed order is not').to.equal(false);
  await this.openStore();
});
