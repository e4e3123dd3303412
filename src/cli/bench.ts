// `eventfold bench` / `npm run bench`: eventfold side by side with better-sqlite3
// used as an event store, and with the raw disk (same bytes, one fdatasync per
// batch), in one process, on the same events. See the README for how to read it.
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Packr } from 'msgpackr';
import { EventStore } from '../index';
import { frameAppend } from '../log/record';
import { CliProblem } from './problems';

export interface BenchOptions {
  /** Events of the batched-append workload (at least 5,000,000 for the published figures). */
  events: number;
  /** Size of the large store whose reopen is timed (10,000,000 for the published figures). */
  reopenEvents: number;
  /** Where bench.json and bench.md go (null: nowhere). */
  out: string | null;
  /** Scratch directory (default: the OS temp dir); everything written is removed. */
  scratch?: string;
  log: (line: string) => void;
}

/** One line of the table (and of bench.json: one number per engine, so readers of it need no special cases). A workload starting with spaces details the row above it. */
interface Row {
  workload: string;
  eventfold: number | null;
  sqlite: number | null;
  raw: number | null;
  unit: string;
}

const EVENTS_PER_APPEND = 1000;
const APPENDS_IN_FLIGHT = 32;
const SINGLES = 10_000;
/** Rates at which single-event appends are offered open-loop, per second. */
const OPEN_LOOP_RATES = [10_000, 50_000, 100_000];
/** How long each rate is offered in the published run (a tenth of it for smaller runs). */
const OPEN_LOOP_MS = 3000;
// The same encoding as eventfold's own payloads, so SQLite stores the same bytes.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** A realistic event: a deposit of about 90 bytes of msgpack. */
function payload(i: number) {
  return { account: `acct-${i % 10_000}`, amount: ((i * 37) % 100_000) / 100, currency: 'EUR', reference: `INV-${i}`, at: 1_700_000_000_000 + i };
}

type BenchEvent = { type: 'MoneyDeposited'; data: ReturnType<typeof payload> };

function batchOf(first: number, count: number): BenchEvent[] {
  return Array.from({ length: count }, (_, j) => ({ type: 'MoneyDeposited' as const, data: payload(first + j) }));
}

/**
 * The same event as `batchOf(i, 1)`, built by literals of its own, as a
 * server builds each request's event: V8 allocates a literal's objects
 * straight in the old generation once many of them lived long (pretenuring),
 * as batchOf's did in the batched rows, and old events holding young strings
 * would be the harness's garbage, measured as the store's collections.
 */
function arrivingEvent(i: number): BenchEvent[] {
  return [{ type: 'MoneyDeposited', data: { account: `acct-${i % 10_000}`, amount: ((i * 37) % 100_000) / 100, currency: 'EUR', reference: `INV-${i}`, at: 1_700_000_000_000 + i } }];
}

const perSecond = (count: number, ms: number) => count / (ms / 1000);

function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    total += entry.isDirectory() ? bytesUnder(join(dir, entry.name)) : statSync(join(dir, entry.name)).size;
  }
  return total;
}

type Sqlite = typeof import('better-sqlite3');

function loadSqlite(log: (line: string) => void): Sqlite | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: only the benchmark needs it
    return require('better-sqlite3') as Sqlite;
  } catch (error) {
    log(`better-sqlite3 is not installed (${(error as Error).message.split('\n')[0]}): the SQLite column is left empty.`);
    return null;
  }
}

/** SQLite as a careful user would set it up as an event store. */
function openSqlite(Database: Sqlite, file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (stream, version))`);
  db.exec('CREATE TABLE IF NOT EXISTS projections (name TEXT PRIMARY KEY, state BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO events (position, stream, version, type, data) VALUES (?, ?, ?, ?, ?)');
  const lastVersion = db.prepare('SELECT max(version) AS v FROM events WHERE stream = ?').pluck();
  let nextPosition = (db.prepare('SELECT max(position) FROM events').pluck().get() as number | null) ?? -1;
  nextPosition++;
  // One transaction per append: read the stream's version (the expected-version check), insert its events.
  const append = db.transaction((stream: string, events: Array<{ type: string; data: unknown }>) => {
    let version = ((lastVersion.get(stream) as number | null) ?? -1) + 1;
    for (const event of events) insert.run(nextPosition++, stream, version++, event.type, packr.pack(event.data));
  });
  return { db, append };
}

/** What every step of the benchmark shares: where it writes, what it found so far. */
interface BenchRun {
  log: (line: string) => void;
  root: string;
  rows: Row[];
  /** Every figure measured, by name (bench.json's `figures`). */
  figures: Record<string, number>;
  /** SQLite set up as an event store, null when better-sqlite3 is not installed. */
  sqlite: ReturnType<typeof openSqlite> | null;
  /** Events of the batched workload (a multiple of EVENTS_PER_APPEND). */
  events: number;
  /** How long each open-loop rate is offered, in milliseconds. */
  openLoopMs: number;
}

export async function runBenchmark(options: BenchOptions): Promise<{ rows: Row[]; ratios: Record<string, number> }> {
  const { log } = options;
  // Before anything is measured: a long run must not fail at its end for want of the folder.
  const out = options.out === null ? null : reportFolder(options.out);
  const Database = loadSqlite(log);
  const root = mkdtempSync(join(options.scratch ?? tmpdir(), 'eventfold-bench-'));
  const events = Math.ceil(options.events / EVENTS_PER_APPEND) * EVENTS_PER_APPEND;
  const run: BenchRun = {
    log,
    root,
    rows: [],
    figures: {},
    sqlite: Database ? openSqlite(Database, join(root, 'events.sqlite')) : null,
    events,
    // Long enough for a p999 at the published size; short for a smoke run.
    openLoopMs: events >= 1_000_000 ? OPEN_LOOP_MS : OPEN_LOOP_MS / 10,
  };
  try {
    const storeDir = join(root, 'eventfold');
    const store = await benchBatchedAppends(run, storeDir);
    await benchConcurrentSingles(run, store);
    await benchOpenLoop(run, store);
    await benchReplay(run, store);
    await benchReopen(run, store, storeDir, options.reopenEvents);
    await benchStateReads(run);
    run.sqlite?.db.close();
    const { figures } = run;
    const ratios: Record<string, number> = {};
    if (figures.sqliteBatched) ratios.batchedAppendVsSqlite = figures.eventfoldBatched / figures.sqliteBatched;
    if (figures.sqliteReplay) ratios.replayVsSqlite = figures.eventfoldReplay / figures.sqliteReplay;
    if (figures.sqliteReplay) ratios.pagedReplayVsSqlite = figures.eventfoldPagedReplay / figures.sqliteReplay;
    if (figures.sqliteSingles) ratios.concurrentAppendVsSqlite = figures.eventfoldSingles / figures.sqliteSingles;
    ratios.batchedAppendVsRawDisk = figures.eventfoldBatched / figures.rawBatched;
    printTable(run.rows, ratios, log);
    if (out) writeReports(out, run.rows, ratios, figures);
    return { rows: run.rows, ratios };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Appends of EVENTS_PER_APPEND events, APPENDS_IN_FLIGHT at a time, fsync durability; the same on SQLite and on the raw disk. Returns the store, still open. */
async function benchBatchedAppends(run: BenchRun, storeDir: string): Promise<EventStore> {
  const { figures, sqlite, events } = run;
  const appends = events / EVENTS_PER_APPEND;
  run.log(`batched durable appends: ${events.toLocaleString('en-US')} events, ${EVENTS_PER_APPEND} per append`);
  const store = await EventStore.open(storeDir, { snapshotEvery: 0 });
  let t = performance.now();
  await appendInFlight(store, 0, events);
  figures.eventfoldBatched = perSecond(events, performance.now() - t);
  figures.eventfoldBytes = bytesUnder(storeDir);
  if (sqlite) {
    t = performance.now();
    for (let i = 0; i < appends; i++) sqlite.append(`account-${i % 1000}`, batchOf(i * EVENTS_PER_APPEND, EVENTS_PER_APPEND));
    figures.sqliteBatched = perSecond(events, performance.now() - t);
  }
  figures.rawBatched = rawDiskAppends(run.root, appends);
  run.rows.push({ workload: `batched durable appends (${EVENTS_PER_APPEND} events per append)`, eventfold: figures.eventfoldBatched, sqlite: figures.sqliteBatched ?? null, raw: figures.rawBatched, unit: 'events/s' });
  return store;
}

/** Appends the events from position `first` up to `end`, EVENTS_PER_APPEND per append, APPENDS_IN_FLIGHT at a time. */
async function appendInFlight(store: EventStore, first: number, end: number): Promise<void> {
  const ring: Array<Promise<unknown>> = [];
  for (let position = first, i = 0; position < end; position += EVENTS_PER_APPEND, i++) {
    if (ring.length >= APPENDS_IN_FLIGHT) await ring.shift();
    ring.push(store.append(`account-${i % 1000}`, batchOf(position, Math.min(EVENTS_PER_APPEND, end - position))));
  }
  await Promise.all(ring);
}

/** The disk's ceiling: the same bytes eventfold writes for one append, written and fdatasync'ed per append. Events per second. */
function rawDiskAppends(root: string, appends: number): number {
  const framed = frameAppend('account-0', batchOf(0, EVENTS_PER_APPEND), 0, 0, Date.now(), 1 << 20);
  const rawFile = join(root, 'raw.bin');
  const fd = openSync(rawFile, 'w');
  const t = performance.now();
  for (let i = 0; i < appends; i++) {
    writeSync(fd, framed.bytes);
    fdatasyncSync(fd);
  }
  const rate = perSecond(appends * EVENTS_PER_APPEND, performance.now() - t);
  closeSync(fd);
  rmSync(rawFile);
  return rate;
}

/** SINGLES single-event appends issued at once; each caller's wait until its append is acknowledged. */
async function benchConcurrentSingles(run: BenchRun, store: EventStore): Promise<void> {
  const { figures, sqlite } = run;
  const first = run.events;
  run.log(`${SINGLES.toLocaleString('en-US')} concurrent single-event appends`);
  const latencies: number[] = [];
  let t = performance.now();
  await Promise.all(
    Array.from({ length: SINGLES }, (_, i) => {
      const started = performance.now();
      return store.append(`caller-${i}`, batchOf(first + i, 1)).then(() => latencies.push(performance.now() - started));
    }),
  );
  figures.eventfoldSingles = perSecond(SINGLES, performance.now() - t);
  latencies.sort((a, b) => a - b);
  figures.eventfoldSinglesP50Ms = percentile(latencies, 50);
  figures.eventfoldSinglesP99Ms = percentile(latencies, 99);
  if (sqlite) {
    // better-sqlite3 is synchronous: 10,000 callers are served one transaction (and one fsync) at a time.
    const own: number[] = [];
    t = performance.now();
    for (let i = 0; i < SINGLES; i++) {
      sqlite.append(`caller-${i}`, batchOf(first + i, 1));
      own.push(performance.now() - t);
    }
    figures.sqliteSingles = perSecond(SINGLES, performance.now() - t);
    // All callers arrive at once: caller k waits for the k transactions before it.
    own.sort((a, b) => a - b);
    figures.sqliteSinglesP50Ms = percentile(own, 50);
    figures.sqliteSinglesP99Ms = percentile(own, 99);
  }
  run.rows.push({ workload: `${SINGLES.toLocaleString('en-US')} concurrent single-event appends`, eventfold: figures.eventfoldSingles, sqlite: figures.sqliteSingles ?? null, raw: null, unit: 'events/s' });
  run.rows.push({ workload: '  latency p50', eventfold: figures.eventfoldSinglesP50Ms, sqlite: figures.sqliteSinglesP50Ms ?? null, raw: null, unit: 'ms' });
  run.rows.push({ workload: '  latency p99', eventfold: figures.eventfoldSinglesP99Ms, sqlite: figures.sqliteSinglesP99Ms ?? null, raw: null, unit: 'ms' });
}

/**
 * Open loop: single-event appends offered at a fixed rate whatever the store
 * does — append k is due at k / rate seconds, issued at the first millisecond
 * tick at or after that, and its latency counts from when it was due (a slow
 * acknowledgment does not delay the next arrivals, so it is not hidden).
 * fsync durability. SQLite is left out: one synchronous caller cannot offer
 * load faster than it is served.
 */
async function benchOpenLoop(run: BenchRun, store: EventStore): Promise<void> {
  for (const rate of OPEN_LOOP_RATES) {
    const count = Math.round((rate * run.openLoopMs) / 1000);
    run.log(`open-loop single-event appends: ${rate.toLocaleString('en-US')}/s for ${run.openLoopMs} ms`);
    const started = performance.now();
    const latencies = await offerAtRate(store, rate, count);
    const name = `eventfoldOpenLoop${rate / 1000}k`;
    run.figures[`${name}Acknowledged`] = perSecond(count, performance.now() - started);
    latencies.sort(); // a Float64Array sorts numerically, in place
    run.rows.push({ workload: `open-loop single-event appends offered at ${rate.toLocaleString('en-US')}/s (fsync)`, eventfold: run.figures[`${name}Acknowledged`], sqlite: null, raw: null, unit: 'events/s' });
    for (const p of [50, 99, 99.9]) {
      const figure = `${name}P${String(p).replace('.', '')}Ms`;
      run.figures[figure] = percentile(latencies, p);
      run.rows.push({ workload: `  latency p${String(p).replace('.', '')}`, eventfold: run.figures[figure], sqlite: null, raw: null, unit: 'ms' });
    }
  }
}

/** Offers `count` single-event appends at `rate` per second; resolves with each one's latency from when it was due, in ms. */
function offerAtRate(store: EventStore, rate: number, count: number): Promise<Float64Array> {
  // Filled in place: a growing array would be the benchmark's own old-space garbage, measured as the store's GC pauses.
  const latencies = new Float64Array(count);
  const start = performance.now();
  const interval = 1000 / rate;
  let issued = 0;
  let acknowledged = 0;
  return new Promise((resolve, reject) => {
    const issueDue = () => {
      const due = Math.min(count, Math.floor((performance.now() - start) / interval) + 1);
      for (; issued < due; issued++) {
        const dueAt = start + issued * interval;
        store.append(`open-loop-${issued % 1000}`, arrivingEvent(issued)).then(() => {
          latencies[acknowledged] = performance.now() - dueAt;
          if (++acknowledged === count) resolve(latencies);
        }, reject);
      }
      // Woken each millisecond, as a server is by the requests that arrived meanwhile: spinning on setImmediate
      // instead kept one of the machine's cores busy with the harness and its garbage. Latency still counts from each
      // append's due time, so a late wake-up is counted against the store, never hidden.
      if (issued < count) setTimeout(issueDue, 1);
    };
    issueDue();
  });
}

/** Every event read back in order, data decoded: one at a time (`readAll`) and a page at a time (`readAllPages`); SQLite's SELECT in position order. */
async function benchReplay(run: BenchRun, store: EventStore): Promise<void> {
  const { figures, sqlite } = run;
  const total = store.position + 1;
  run.log('full replay (read + decode)');
  let t = performance.now();
  let seen = 0;
  for await (const event of store.readAll()) if (event.data !== undefined) seen++;
  figures.eventfoldReplay = perSecond(seen, performance.now() - t);
  if (seen !== total) throw new Error(`eventfold replayed ${seen} events, ${total} were appended`);
  t = performance.now();
  seen = 0;
  for await (const page of store.readAllPages()) for (const event of page) if (event.data !== undefined) seen++;
  figures.eventfoldPagedReplay = perSecond(seen, performance.now() - t);
  if (seen !== total) throw new Error(`eventfold replayed ${seen} events in pages, ${total} were appended`);
  if (sqlite) {
    t = performance.now();
    let rowsSeen = 0;
    const all = sqlite.db.prepare('SELECT position, stream, version, type, data FROM events ORDER BY position');
    for (const row of all.iterate() as Iterable<{ position: number; stream: string; version: number; type: string; data: Buffer }>) {
      const event = { position: row.position, stream: row.stream, version: row.version, type: row.type, data: packr.unpack(row.data) };
      if (event.data !== undefined) rowsSeen++;
    }
    figures.sqliteReplay = perSecond(rowsSeen, performance.now() - t);
    // SQLite holds the events of every row above except the open-loop ones (eventfold only).
    const expected = run.events + SINGLES;
    if (rowsSeen !== expected) throw new Error(`SQLite replayed ${rowsSeen} rows, ${expected} were inserted`);
  }
  run.rows.push({ workload: `full replay of ${total.toLocaleString('en-US')} events (read + decode)`, eventfold: figures.eventfoldReplay, sqlite: figures.sqliteReplay ?? null, raw: null, unit: 'events/s' });
  run.rows.push({ workload: '  the same, a page at a time (readAllPages)', eventfold: figures.eventfoldPagedReplay, sqlite: figures.sqliteReplay ?? null, raw: null, unit: 'events/s' });
}

/** `open` timed with a fresh snapshot: a small store, then the benchmark's store grown to `reopenEvents`. Closes `store`. */
async function benchReopen(run: BenchRun, store: EventStore, storeDir: string, reopenEvents: number): Promise<void> {
  const { figures } = run;
  run.log('reopen with a fresh snapshot');
  const smallDir = join(run.root, 'small');
  let small = await EventStore.open(smallDir, { snapshotEvery: 0 });
  for (let i = 0; i < 100; i++) await small.append(`account-${i % 100}`, batchOf(i * EVENTS_PER_APPEND, EVENTS_PER_APPEND));
  await small.checkpoint();
  await small.close();
  let t = performance.now();
  small = await EventStore.open(smallDir);
  figures.reopenSmallMs = performance.now() - t;
  await small.close();

  const large = Math.max(reopenEvents, store.position + 1);
  await appendInFlight(store, store.position + 1, large);
  await store.checkpoint();
  await store.close();
  figures.largeEvents = large;
  t = performance.now();
  const reopened = await EventStore.open(storeDir);
  figures.reopenLargeMs = performance.now() - t;
  if (reopened.position + 1 !== large) throw new Error(`reopened store holds ${reopened.position + 1} events, expected ${large}`);
  await reopened.close();
  run.rows.push({ workload: 'reopen with a fresh snapshot, 100,000 events', eventfold: figures.reopenSmallMs, sqlite: null, raw: null, unit: 'ms' });
  run.rows.push({ workload: `reopen with a fresh snapshot, ${large.toLocaleString('en-US')} events`, eventfold: figures.reopenLargeMs, sqlite: null, raw: null, unit: 'ms' });
}

/** A projection's current state, as the application reads it; SQLite: the state kept in a row, read and decoded. */
async function benchStateReads(run: BenchRun): Promise<void> {
  const { figures, sqlite } = run;
  run.log('state reads');
  const withState = await EventStore.open<BenchEvent, { totals: { count: number; amount: number } }>(join(run.root, 'state'), {
    projections: { totals: { version: 1, initialState: { count: 0, amount: 0 }, evolve: (d, e) => ((d.count += 1), (d.amount += e.data.amount)) } },
  });
  await withState.append('account-1', batchOf(0, 1000));
  const reads = 1_000_000;
  let check = 0;
  let t = performance.now();
  for (let i = 0; i < reads; i++) check += withState.state('totals').count;
  figures.eventfoldStateReads = perSecond(reads, performance.now() - t);
  if (check !== reads * 1000) throw new Error('state reads returned the wrong state');
  await withState.close();
  if (sqlite) {
    sqlite.db.prepare('INSERT OR REPLACE INTO projections (name, state) VALUES (?, ?)').run('totals', packr.pack({ count: 1000, amount: 1 }));
    const read = sqlite.db.prepare('SELECT state FROM projections WHERE name = ?').pluck();
    const sqliteReads = 200_000;
    t = performance.now();
    for (let i = 0; i < sqliteReads; i++) check += (packr.unpack(read.get('totals') as Buffer) as { count: number }).count;
    figures.sqliteStateReads = perSecond(sqliteReads, performance.now() - t);
  }
  run.rows.push({ workload: 'state reads', eventfold: figures.eventfoldStateReads, sqlite: figures.sqliteStateReads ?? null, raw: null, unit: 'reads/s' });
}

function format(value: number | null, unit: string): string {
  if (value === null) return '—';
  return unit === 'ms' ? value.toFixed(value < 10 ? 2 : 0) : Math.round(value).toLocaleString('en-US');
}

function tableLines(rows: Row[]): string[] {
  const header = ['workload', 'eventfold', 'SQLite (WAL, FULL)', 'raw disk', 'unit'];
  const cells = rows.map((r) => [r.workload, format(r.eventfold, r.unit), format(r.sqlite, r.unit), format(r.raw, r.unit), r.unit]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...cells.map(line)];
}

function printTable(rows: Row[], ratios: Record<string, number>, log: (line: string) => void): void {
  for (const line of tableLines(rows)) log(line);
  for (const [name, value] of Object.entries(ratios)) log(`${name}: ${value.toFixed(2)}×`);
}

/** The report folder `out`, made (with any missing parents) if it is not there; a CliProblem naming it if it cannot be. */
function reportFolder(out: string): string {
  const path = resolve(out);
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw reportProblem(path, error);
  }
  return path;
}

/** Why the benchmark report cannot be written to `path`: the report's folder named, not "the store". */
function reportProblem(path: string, error: unknown): CliProblem {
  return new CliProblem(`cannot write the benchmark report to ${path}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function writeReports(out: string, rows: Row[], ratios: Record<string, number>, figures: Record<string, number>): void {
  try {
    writeReportFiles(out, rows, ratios, figures);
  } catch (error) {
    throw reportProblem(out, error);
  }
}

function writeReportFiles(out: string, rows: Row[], ratios: Record<string, number>, figures: Record<string, number>): void {
  const machine = { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, date: new Date().toISOString() };
  writeFileSync(join(out, 'bench.json'), JSON.stringify({ machine, rows, ratios, figures }, null, 2) + '\n');
  const md = [
    '# eventfold benchmark',
    '',
    `Run ${machine.date} on ${machine.platform}, ${machine.cpus} CPUs, Node ${machine.node}, in one process. Reproduce: \`npm run bench\`.`,
    '',
    ...tableLines(rows),
    '',
    ...Object.entries(ratios).map(([name, value]) => `- ${name}: ${value.toFixed(2)}×`),
    '',
  ];
  writeFileSync(join(out, 'bench.md'), md.join('\n'));
}
