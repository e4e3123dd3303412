// `npm run bench:postgres` (also the last part of `npm run bench`): eventfold
// on PostgreSQL beside eventfold on files and beside
// @event-driven-io/emmett-postgresql, on one throwaway PostgreSQL cluster
// started for the run with the server's default durability (fsync on,
// synchronous_commit on), in the same run. Every append is durable when
// acknowledged in every column. `--out <dir>` writes bench-postgres.json and
// bench-postgres.md there.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EventStore } from '../src/index';
import { startCluster, stopOnExit, type Cluster } from '../steps/setup/postgres-cluster';

/** Appends of the one-writer run (each awaited before the next). */
const SINGLE_WRITER_APPENDS = 2_000;
/** Concurrent writers, and appends each (each writer awaits its own before its next). */
const WRITERS = 8;
const APPENDS_PER_WRITER = 1_000;
/** Events preloaded (100 per append) for the read-all run. */
const READ_ALL_EVENTS = 100_000;

interface Contender {
  name: string;
  append(stream: string, events: Array<{ type: string; data: Record<string, unknown> }>): Promise<unknown>;
  /** Reads every event in global order; resolves with how many. */
  readAll(): Promise<number>;
  close(): Promise<void>;
}

interface Row {
  workload: string;
  figures: Record<string, number | null>;
  unit: string;
}

const event = (i: number) => ({ type: 'Deposited', data: { account: `account-${i % 100}`, amount: i % 97, note: 'monthly' } });

async function eventfold(location: string, name: string): Promise<Contender> {
  const store = await EventStore.open(location);
  return {
    name,
    append: (stream, events) => store.append(stream, events),
    readAll: async () => {
      let n = 0;
      for await (const e of store.readAll()) if (e.data !== undefined) n++;
      return n;
    },
    close: () => store.close(),
  };
}

async function emmett(url: string): Promise<Contender | string> {
  let module: typeof import('@event-driven-io/emmett-postgresql');
  let dumboModule: typeof import('@event-driven-io/dumbo');
  try {
    module = await import('@event-driven-io/emmett-postgresql');
    dumboModule = await import('@event-driven-io/dumbo');
  } catch (error) {
    return `@event-driven-io/emmett-postgresql is not installed (${(error as Error).message.split('\n')[0]})`;
  }
  const store = module.getPostgreSQLEventStore(url);
  const pool = dumboModule.dumbo({ connectionString: url });
  return {
    name: 'emmett-postgresql 0.42.0',
    append: (stream, events) => store.appendToStream(stream, events),
    readAll: async () => {
      let n = 0;
      let after = 0n;
      for (;;) {
        const batch = await module.readMessagesBatch(pool.execute, { after, batchSize: 2000 });
        n += batch.messages.length;
        if (batch.messages.length === 0 || !batch.areMessagesLeft) return n;
        after = batch.messages[batch.messages.length - 1].metadata.globalPosition;
      }
    },
    close: async () => {
      await store.close();
      await pool.close();
    },
  };
}

async function measure(contender: Contender): Promise<Record<string, number>> {
  let t = performance.now();
  for (let i = 0; i < SINGLE_WRITER_APPENDS; i++) await contender.append(`single-${i % 100}`, [event(i)]);
  const single = SINGLE_WRITER_APPENDS / ((performance.now() - t) / 1000);

  t = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < APPENDS_PER_WRITER; i++) await contender.append(`writer-${w}-${i % 50}`, [event(i)]);
    }),
  );
  const concurrent = (WRITERS * APPENDS_PER_WRITER) / ((performance.now() - t) / 1000);

  const loads = [];
  for (let i = 0; i < READ_ALL_EVENTS / 100; i++) loads.push(contender.append(`load-${i % 100}`, Array.from({ length: 100 }, (_, j) => event(i * 100 + j))));
  await Promise.all(loads);
  const total = SINGLE_WRITER_APPENDS + WRITERS * APPENDS_PER_WRITER + READ_ALL_EVENTS;
  t = performance.now();
  const read = await contender.readAll();
  const readAll = read / ((performance.now() - t) / 1000);
  return { single, concurrent, readAll, read, total };
}

async function createDatabase(cluster: Cluster, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

function format(value: number | null): string {
  return value === null ? '—' : Math.round(value).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const outAt = process.argv.indexOf('--out');
  const out = outAt > 0 ? process.argv[outAt + 1] : undefined;
  const cluster = await startCluster({ fsync: true });
  stopOnExit(cluster);
  const dir = mkdtempSync(join(tmpdir(), 'eventfold-bench-'));
  const columns: Record<string, Record<string, number> | null> = {};
  const notes: string[] = [];
  try {
    const contenders: Array<() => Promise<Contender | string>> = [
      () => eventfold(join(dir, 'store'), 'eventfold on files'),
      async () => eventfold(await createDatabase(cluster, 'eventfold_bench'), 'eventfold on PostgreSQL'),
      async () => emmett(await createDatabase(cluster, 'emmett_bench')),
    ];
    for (const open of contenders) {
      const contender = await open();
      if (typeof contender === 'string') {
        notes.push(contender);
        columns['emmett-postgresql 0.42.0'] = null;
        continue;
      }
      console.log(`measuring ${contender.name}…`);
      try {
        const figures = await measure(contender);
        columns[contender.name] = figures;
        if (figures.read !== figures.total) {
          // eventfold must read back every event; another store that does not is reported, not hidden.
          if (contender.name.startsWith('eventfold')) throw new Error(`${contender.name} read ${figures.read} events back, ${figures.total} were appended`);
          notes.push(`${contender.name}: a full read after the run returned ${figures.read.toLocaleString('en-US')} of the ${figures.total.toLocaleString('en-US')} events appended (${(figures.total - figures.read).toLocaleString('en-US')} skipped by its paging).`);
        }
      } finally {
        await contender.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    cluster.stop();
  }
  const names = Object.keys(columns);
  const value = (name: string, key: string) => columns[name]?.[key] ?? null;
  const rows: Row[] = [
    { workload: `1 writer, ${SINGLE_WRITER_APPENDS.toLocaleString('en-US')} appends of 1 event, each awaited`, figures: Object.fromEntries(names.map((n) => [n, value(n, 'single')])), unit: 'appends/s' },
    { workload: `${WRITERS} concurrent writers, ${APPENDS_PER_WRITER.toLocaleString('en-US')} appends of 1 event each`, figures: Object.fromEntries(names.map((n) => [n, value(n, 'concurrent')])), unit: 'appends/s' },
    { workload: `read all, ${(SINGLE_WRITER_APPENDS + WRITERS * APPENDS_PER_WRITER + READ_ALL_EVENTS).toLocaleString('en-US')} events`, figures: Object.fromEntries(names.map((n) => [n, value(n, 'readAll')])), unit: 'events/s' },
  ];
  const lines = [
    `| workload | ${names.join(' | ')} | unit |`,
    `|---|${names.map(() => '---:').join('|')}|---|`,
    ...rows.map((row) => `| ${row.workload} | ${names.map((n) => format(row.figures[n])).join(' | ')} | ${row.unit} |`),
    ...notes.map((note) => `\n${note}`),
  ];
  for (const line of lines) console.log(line);
  if (out) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'bench-postgres.json'), JSON.stringify({ rows, notes }, null, 2) + '\n');
    writeFileSync(join(out, 'bench-postgres.md'), lines.join('\n') + '\n');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
