// A quick single-process measurement of eventfold alone: batched durable
// appends, concurrent single-event appends, full replay, and reopen time.
// Run: npm run bench:quick. The side-by-side benchmark with SQLite and the
// raw disk is `npm run bench` (src/cli/bench.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '../src/index';

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-'));
  try {
    let store = await EventStore.open(dir);
    const batches = 2000;
    const perBatch = 1000;
    let t = performance.now();
    const appends = [];
    for (let i = 0; i < batches; i++) {
      const events = Array.from({ length: perBatch }, (_, j) => ({ type: 'Deposited', data: { amount: j, note: 'monthly' } }));
      appends.push(store.append(`account-${i % 100}`, events));
    }
    await Promise.all(appends);
    console.log(`batched durable appends (${batches} x ${perBatch} events): ${rate(batches * perBatch, performance.now() - t)} events/s`);

    t = performance.now();
    const singles = [];
    for (let i = 0; i < 10_000; i++) singles.push(store.append(`caller-${i % 1000}`, [{ type: 'Clicked', data: { i } }]));
    await Promise.all(singles);
    console.log(`10,000 concurrent single-event appends: ${rate(10_000, performance.now() - t)} events/s`);

    t = performance.now();
    let count = 0;
    for await (const _ of store.readAll()) count++;
    console.log(`full replay (read + CRC + decode) of ${count.toLocaleString('en-US')} events: ${rate(count, performance.now() - t)} events/s`);

    t = performance.now();
    count = 0;
    for await (const page of store.readAllPages()) count += page.length;
    console.log(`the same, a page at a time (readAllPages): ${rate(count, performance.now() - t)} events/s`);
    await store.close();

    t = performance.now();
    store = await EventStore.open(dir);
    console.log(`reopen (from the automatic snapshot at 1,000,000 events, then the tail) of ${(store.position + 1).toLocaleString('en-US')} events: ${Math.round(performance.now() - t)} ms`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
