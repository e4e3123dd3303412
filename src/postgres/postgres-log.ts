/**
 * The PostgreSQL log: the engine's EventLog on a PostgreSQL database that
 * several processes (on several machines) share. See SCHEMA.md for the
 * tables and the append function, and README "PostgreSQL" for what it
 * guarantees.
 *
 * Appends: one store object group-commits the appends in flight, like the
 * file log's writer: one call of `eventfold_append` (one statement, one
 * transaction, one WAL flush) per group, one group at a time. The function
 * takes the position counter's row lock, so appends of all processes are
 * serialised until commit: positions are dense and commit in position order.
 *
 * What this process knows (`lastPosition`) advances only under one mutex,
 * through the engine's listener, in position order: our own appends once
 * their group committed (`appended`), everybody else's when they are
 * discovered (`discovered`: before our next group is reported, and on
 * notifications, polls and `refresh`). A group holds the mutex while its
 * statement runs, so a discovery never mistakes our own committed rows for
 * another process's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AppendResult, RecordedEvent } from '../api';
import type { EngineSnapshot, EventLog, LogAppend, LogAppendOutcome, LogHealth, LogListener, LogReplay, LogStreamRead, OpenEventLog, StoredCheckpoint } from '../engine/event-log';
import { asStorageError, EventfoldError, ExpectedVersionConflictError, InvalidInputError, ReadOnlyStoreError, StorageError, StoreClosedError } from '../errors';
import type { RecoveryReport } from '../recovery/report';
import { clientConfig, redact } from './connection';
import { Notifications } from './notifications';
import { readPostgresOptions, type PostgresSettings } from './options';
import { EVENT_COLUMNS, eventOf, pack, unpack, type EventRow } from './payload';
import { migrate } from './schema';

/** Events read per query (readAll, readStream, replay, discovery). */
const PAGE = 2000;
/** How long a dropped append connection's server session may take to end before its appends' outcome is declared unknown. */
const TERMINATE_WAIT_MS = 10_000;

/** One append of the queue, encoded for the append function. */
interface Queued {
  append: LogAppend;
  count: number;
  types: string[];
  ids: string[];
  timestamps: number[];
  data: Buffer[];
  metadata: Array<Buffer | null>;
  bytes: number;
  settle(outcome: LogAppendOutcome): void;
}

function connectionLost(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  // No SQLSTATE: the socket failed or was closed; class 08 and 57P0x: the server ended the session.
  return code === undefined || code.startsWith('08') || code.startsWith('57P0');
}

export class PostgresLog implements EventLog {
  readonly kind = 'postgres' as const;
  readonly health: LogHealth = { log: 'verified', problem: null };
  readonly failure: EventfoldError | undefined = undefined;
  private known: number;
  private queue: Queued[] = [];
  private queuedEvents = 0;
  private flushing: Promise<void> | undefined;
  private roomWaiters: Array<() => void> = [];
  /** The mutex under which `known` advances (see the module comment). */
  private reporting: Promise<unknown> = Promise.resolve();
  private waiters = new Set<() => void>();
  private appendClient: pg.Client | undefined;
  private closing = false;
  private closed = false;
  private refreshing: Promise<number> | undefined;
  private refreshAgain = false;
  /** The version each stream will have once the appends queued by this process commit (their guess, for `accepting`). */
  private pendingVersions = new Map<string, number>();
  private readonly notifications: Notifications;
  /** The engine, once it listens (see `listen`). */
  private listener: LogListener = NOBODY;

  constructor(
    private readonly url: string,
    readonly location: string,
    private readonly settings: PostgresSettings,
    private readonly pool: pg.Pool,
    /** Every stream's last version known to this process, in the order the streams began. */
    private readonly versions: Map<string, number>,
    readonly recovery: RecoveryReport,
  ) {
    this.known = recovery.lastPosition;
    this.notifications = new Notifications(clientConfig(url, true), (last) => {
      if (last === undefined || last > this.known) this.scheduleRefresh();
    }, () => this.waiters.size > 0);
  }

  get readOnly(): boolean {
    return this.settings.readOnly;
  }

  get lastPosition(): number {
    return this.known;
  }

  get pendingEvents(): number {
    return this.queuedEvents;
  }

  verified(): Promise<LogHealth> {
    return Promise.resolve(this.health);
  }

  /**
   * One read-side statement on the pool. Idempotent statements only: after a
   * lost connection (an idle one the server ended, as on a restart) it is
   * run again on a fresh one, at most twice.
   */
  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pool.query<R>(sql, values);
      } catch (error) {
        if (attempt >= 2 || !connectionLost(error) || this.closed) throw error;
      }
    }
  }

  listen(listener: LogListener): void {
    this.listener = listener;
    // From here on other processes' appends are reported: listen for them.
    this.notifications.start();
  }

  // ---- appends ----

  async append(batch: readonly LogAppend[]): Promise<LogAppendOutcome[]> {
    if (this.closing) throw new StoreClosedError();
    if (this.readOnly) throw new ReadOnlyStoreError(this.location);
    let events = 0;
    for (const append of batch) events += append.events.length;
    while (this.queuedEvents > 0 && this.queuedEvents + events > this.settings.maxQueueEvents) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      if (this.closing) throw new StoreClosedError();
    }
    const outcomes: LogAppendOutcome[] = new Array(batch.length);
    let unsettled = batch.length;
    return new Promise<LogAppendOutcome[]>((resolve) => {
      let guessPosition = this.known + this.queuedEvents + 1;
      batch.forEach((append, i) => {
        const settle = (outcome: LogAppendOutcome) => {
          outcomes[i] = outcome;
          if (--unsettled === 0) resolve(outcomes);
        };
        let queued: Queued;
        try {
          queued = this.encode(append, settle);
          if (this.listener.foldsEvents) {
            const guessVersion = (this.pendingVersions.get(append.stream) ?? this.versions.get(append.stream) ?? -1) + 1;
            this.listener.accepting(append, this.asRead(queued, guessPosition, guessVersion));
            this.pendingVersions.set(append.stream, guessVersion + queued.count - 1);
          }
        } catch (error) {
          settle(error instanceof EventfoldError ? error : new InvalidInputError(`an event cannot be stored: ${(error as Error)?.message ?? error}`, { cause: error }));
          return;
        }
        guessPosition += queued.count;
        this.queue.push(queued);
        this.queuedEvents += queued.count;
      });
      if (this.queue.length > 0) this.flushing ??= this.flush();
    });
  }

  /** Packs an append's events for the append function; refuses what PostgreSQL cannot hold. */
  private encode(append: LogAppend, settle: Queued['settle']): Queued {
    refuseNul(append.stream, 'stream name');
    const count = append.events.length;
    const queued: Queued = { append, count, types: [], ids: [], timestamps: [], data: [], metadata: [], bytes: 0, settle };
    const timestamp = Date.now();
    for (let i = 0; i < count; i++) {
      const event = append.events[i];
      refuseNul(event.type, `event ${i} type`);
      const id = event.id ?? randomUUID();
      refuseNul(id, `event ${i} id`);
      const data = pack(event.data ?? null);
      const metadata = event.metadata !== undefined && event.metadata !== null ? pack(event.metadata) : null;
      const size = Buffer.byteLength(event.type) + Buffer.byteLength(id) + data.length + (metadata?.length ?? 0);
      if (size > this.settings.maxEventBytes) {
        throw new InvalidInputError(`event ${i} takes ${size} bytes encoded; the limit (maxEventBytes) is ${this.settings.maxEventBytes} bytes`);
      }
      queued.types.push(event.type);
      queued.ids.push(id);
      queued.timestamps.push(timestamp);
      queued.data.push(data);
      queued.metadata.push(metadata);
      queued.bytes += size;
    }
    return queued;
  }

  /**
   * The events of a queued append as they will read back, at the positions
   * and versions expected now: exact unless another process appends before
   * it commits (the commit decides; readers see the committed ones).
   */
  private asRead(queued: Queued, firstPosition: number, firstVersion: number): RecordedEvent[] {
    const events: RecordedEvent[] = [];
    for (let i = 0; i < queued.count; i++) {
      events.push({
        position: firstPosition + i,
        stream: queued.append.stream,
        version: firstVersion + i,
        type: queued.types[i],
        data: unpack(queued.data[i]),
        metadata: queued.metadata[i] === null ? null : unpack(queued.metadata[i]!),
        id: queued.ids[i],
        timestamp: queued.timestamps[i],
      } as RecordedEvent);
    }
    return events;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.settings.maxBatchDelayMs > 0 && this.queuedEvents < this.settings.maxBatchEvents) {
          await new Promise((resolve) => setTimeout(resolve, this.settings.maxBatchDelayMs));
        }
        const group: Queued[] = [];
        let events = 0;
        let bytes = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0];
          if (group.length > 0 && (events + next.count > this.settings.maxBatchEvents || bytes + next.bytes > this.settings.maxBatchBytes)) break;
          group.push(this.queue.shift()!);
          events += next.count;
          bytes += next.bytes;
        }
        await this.exclusive(() => this.commit(group));
        this.queuedEvents -= events;
        if (this.queue.length === 0) this.pendingVersions.clear();
        const waiting = this.roomWaiters;
        this.roomWaiters = [];
        for (const wake of waiting) wake();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Runs `task` under the reporting mutex. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.reporting.then(task, task);
    this.reporting = run.catch(() => undefined);
    return run;
  }

  /** One group, one statement, one transaction; then the outcomes, reported in position order. Never throws. */
  private async commit(group: Queued[]): Promise<void> {
    let results: Array<{ first: number | null; actual: number }>;
    try {
      results = await this.runAppend(group);
    } catch (error) {
      const failure = asStorageError(error, `Could not append to ${this.location}`);
      for (const queued of group) {
        if (this.listener.foldsEvents) this.listener.refused?.(queued.append);
        queued.settle(failure);
      }
      return;
    }
    const accepted: LogAppend[] = [];
    const outcomes: LogAppendOutcome[] = [];
    let first = -1;
    let last = -1;
    group.forEach((queued, i) => {
      const { first: position, actual } = results[i];
      if (position === null) {
        outcomes.push(new ExpectedVersionConflictError(queued.append.stream, queued.append.expectedVersion, actual));
        // The engine folded it when it was accepted: it must forget it.
        if (this.listener.foldsEvents) this.listener.refused?.(queued.append);
        return;
      }
      if (first < 0) first = position;
      last = position + queued.count - 1;
      accepted.push(queued.append);
      outcomes.push({ position: last, version: actual + queued.count } satisfies AppendResult);
    });
    if (accepted.length > 0) {
      try {
        // Other processes' events before ours are reported first.
        await this.discoverTo(first - 1);
      } catch (error) {
        // Ours are committed: still acknowledged. The gap is discovered by the next refresh.
        void error;
      }
      if (this.known === first - 1) {
        group.forEach((queued, i) => {
          if (results[i].first !== null) this.versions.set(queued.append.stream, results[i].actual + queued.count);
        });
        this.listener.appended(accepted, last, 0);
        this.known = last;
        this.wake();
      } else {
        this.scheduleRefresh();
      }
    }
    group.forEach((queued, i) => queued.settle(outcomes[i]));
  }

  /**
   * Calls the append function. After a lost connection, finds out what the
   * group's transaction did: committed, it is acknowledged; not written, it
   * is sent once more on a new connection.
   */
  private async runAppend(group: Queued[], retried = false): Promise<Array<{ first: number | null; actual: number }>> {
    const streams: string[] = [];
    const expected: string[] = [];
    const counts: number[] = [];
    const types: string[] = [];
    const ids: string[] = [];
    const timestamps: number[] = [];
    const data: Buffer[] = [];
    const metadata: Array<Buffer | null> = [];
    for (const queued of group) {
      streams.push(queued.append.stream);
      expected.push(String(queued.append.expectedVersion));
      counts.push(queued.count);
      types.push(...queued.types);
      ids.push(...queued.ids);
      timestamps.push(...queued.timestamps);
      data.push(...queued.data);
      metadata.push(...queued.metadata);
    }
    let client: pg.Client | undefined;
    try {
      client = await this.connectForAppends();
      const { rows } = await client.query<{ first_position: number | null; actual_version: number }>(
        'SELECT first_position, actual_version FROM eventfold_append($1, $2, $3, $4, $5, $6, $7, $8)',
        [streams, expected, counts, types, ids, timestamps, data, metadata],
      );
      return rows.map((row) => ({ first: row.first_position, actual: row.actual_version }));
    } catch (error) {
      if (!client || !connectionLost(error)) throw error;
      this.dropAppendClient();
      const found = await this.settleLost(group, (client as unknown as { processID: number | null }).processID, error);
      if (found) return found;
      if (retried) throw new StorageError(`The connection to ${this.location} was lost twice while an append was being committed; it was not written`, error);
      return this.runAppend(group, true);
    }
  }

  /**
   * The connection broke while the group's statement was out: it may have
   * committed or not. The old server session is ended (and waited for), so
   * its transaction can no longer commit; then the group's first events are
   * looked up: found means committed (the whole group, one transaction);
   * null: not written.
   */
  private async settleLost(group: Queued[], pid: number | null, cause: unknown): Promise<Array<{ first: number | null; actual: number }> | null> {
    const unknown = new StorageError(
      `The connection to ${this.location} was lost while an append was being committed, and whether it was written could not be found out: read the stream to know (an append with an expected version cannot be written twice)`,
      cause,
    );
    let rows;
    try {
      if (pid !== null) {
        const ended = await this.query<{ gone: boolean }>(
          'SELECT pg_terminate_backend($1, $2) OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1) AS gone',
          [pid, TERMINATE_WAIT_MS],
        );
        if (!ended.rows[0]?.gone) throw unknown;
      }
      ({ rows } = await this.query<{ n: number; position: number; version: number }>(
        `SELECT q.n::bigint AS n, e.position, e.version FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) WITH ORDINALITY AS q(stream, id, type, ts, n)
         JOIN eventfold_events e ON e.stream = q.stream AND e.id = q.id AND e.type = q.type AND e.timestamp_ms = q.ts AND e.position > $5`,
        [group.map((q) => q.append.stream), group.map((q) => q.ids[0]), group.map((q) => q.types[0]), group.map((q) => q.timestamps[0]), this.known],
      ));
    } catch (error) {
      throw error === unknown ? unknown : new StorageError(unknown.message, error);
    }
    if (rows.length === 0) return null;
    const found = new Map(rows.map((row) => [row.n, row]));
    return group.map((_, i) => {
      const row = found.get(i + 1);
      // A committed group wrote every append that did not conflict; a conflicting one's actual version is unknown now (-1 is never reported as a version).
      return row ? { first: row.position, actual: row.version - 1 } : { first: null, actual: -1 };
    });
  }

  private async connectForAppends(): Promise<pg.Client> {
    if (this.appendClient) return this.appendClient;
    const client = new pg.Client(clientConfig(this.url, this.settings.durability === 'fsync'));
    client.on('error', () => {
      if (this.appendClient === client) this.appendClient = undefined;
    });
    await client.connect();
    this.appendClient = client;
    return client;
  }

  private dropAppendClient(): void {
    const client = this.appendClient;
    this.appendClient = undefined;
    client?.end().catch(() => undefined);
  }

  // ---- what other processes appended ----

  /** Reports every event up to `last` that this process has not seen (call under the mutex). */
  private async discoverTo(last: number): Promise<void> {
    const folds = this.listener.foldsEvents;
    while (this.known < last) {
      const { rows } = await this.query<EventRow>(
        `SELECT ${folds ? EVENT_COLUMNS : 'position, stream, version'} FROM eventfold_events WHERE position > $1 AND position <= $2 ORDER BY position LIMIT ${PAGE}`,
        [this.known, last],
      );
      if (rows.length === 0 || rows[0].position !== this.known + 1 || rows[rows.length - 1].position !== this.known + rows.length) {
        throw new StorageError(`Could not read the events after position ${this.known} of ${this.location}`, new Error(`positions after ${this.known} are not dense`));
      }
      for (const row of rows) this.versions.set(row.stream, row.version);
      const end = rows[rows.length - 1].position;
      this.listener.discovered(folds ? rows.map(eventOf) : [], end);
      this.known = end;
    }
    this.wake();
  }

  refresh(): Promise<number> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return this.exclusive(async () => {
      const { rows } = await this.query<{ last: number }>('SELECT next_position - 1 AS last FROM eventfold_log', []);
      await this.discoverTo(rows[0].last);
      return this.known;
    }).catch((error: unknown) => {
      throw asStorageError(error, `Could not read the end of ${this.location}`);
    });
  }

  /** A refresh soon, coalescing notifications that arrive while one runs. */
  private scheduleRefresh(): void {
    if (this.closing) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refresh();
    this.refreshing
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      });
  }

  waitForEvents(after: number, signal?: AbortSignal): Promise<void> {
    if (this.known > after || this.closing || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      // In case a notification was missed (the listening connection was down).
      this.notifications.pollWhileWaiting();
    });
  }

  private wake(): void {
    const waiting = [...this.waiters];
    for (const wake of waiting) wake();
  }

  // ---- reads ----

  async *readAll(from: number, limit: number): AsyncIterable<readonly RecordedEvent[]> {
    let next = from;
    let left = limit;
    while (left > 0) {
      this.assertOpen();
      const n = Math.min(PAGE, left);
      const rows = await this.rows(`SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE position >= $1 ORDER BY position LIMIT $2`, [next, n]);
      if (rows.length === 0) return;
      const last = rows[rows.length - 1].position;
      // Positions are dense: a page that does not count up from `next` is not what this schema writes.
      if (rows[0].position !== next || last !== next + rows.length - 1) {
        throw new StorageError(`Could not read ${this.location}`, new Error(`positions ${next}… are not dense (found ${rows[0].position} to ${last} in ${rows.length} rows)`));
      }
      yield rows.map(eventOf);
      if (last > this.known) this.scheduleRefresh();
      next = last + 1;
      left -= rows.length;
      if (rows.length < n) return;
    }
  }

  async *readStream(stream: string, options: LogStreamRead): AsyncIterable<readonly RecordedEvent[]> {
    let left = options.limit;
    const forward = options.direction === 'forward';
    let next = options.from ?? (forward ? 0 : Number.MAX_SAFE_INTEGER);
    while (left > 0) {
      this.assertOpen();
      const n = Math.min(PAGE, left);
      const rows = await this.rows(
        forward
          ? `SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3`
          : `SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE stream = $1 AND version <= $2 ORDER BY version DESC LIMIT $3`,
        [stream, next, n],
      );
      if (rows.length === 0) return;
      yield rows.map(eventOf);
      next = forward ? rows[rows.length - 1].version + 1 : rows[rows.length - 1].version - 1;
      left -= rows.length;
      if (rows.length < n || next < 0) return;
    }
  }

  /** As known to this process (like `lastPosition`): `refresh()` takes in what other processes appended. */
  streamVersion(stream: string): number {
    this.assertOpen();
    return this.versions.get(stream) ?? -1;
  }

  streams(): string[] {
    this.assertOpen();
    return [...this.versions.keys()];
  }

  private async rows<R extends pg.QueryResultRow = EventRow>(sql: string, values: unknown[]): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.query<R>(sql, values)).rows;
    } catch (error) {
      throw asStorageError(error, `Could not read ${this.location}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  // ---- snapshots and checkpoints ----

  captureSnapshot(): { position: number; log: unknown } {
    return { position: this.known, log: null };
  }

  async writeSnapshot(snapshot: EngineSnapshot): Promise<string> {
    if (this.readOnly) throw new ReadOnlyStoreError(this.location);
    try {
      const { rows } = await this.query<{ id: number }>(
        'INSERT INTO eventfold_snapshots (position, projections, created_at) VALUES ($1, $2, $3) RETURNING id',
        [snapshot.position, pack(snapshot.projections), snapshot.createdAt],
      );
      const id = rows[0].id;
      await this.query('DELETE FROM eventfold_snapshots WHERE id NOT IN (SELECT id FROM eventfold_snapshots ORDER BY position DESC, id DESC LIMIT $1)', [this.settings.keepSnapshots]);
      return `eventfold_snapshots id ${id}`;
    } catch (error) {
      throw asStorageError(error, `Could not write a snapshot to ${this.location}`);
    }
  }

  async readCheckpoint(name: string): Promise<StoredCheckpoint | null> {
    const rows = await this.rows<{ position: number }>('SELECT position FROM eventfold_checkpoints WHERE name = $1', [name]);
    return rows.length === 0 ? null : { position: rows[0].position };
  }

  async writeCheckpoint(name: string, position: number): Promise<void> {
    if (this.readOnly) throw new ReadOnlyStoreError(this.location);
    this.assertOpen();
    try {
      await this.query(
        `INSERT INTO eventfold_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
        [name, position],
      );
    } catch (error) {
      throw asStorageError(error, `Could not store the checkpoint of subscription "${name}" in ${this.location}`);
    }
  }

  // ---- closing ----

  async close(finishing?: Promise<unknown>): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    for (const wake of this.roomWaiters) wake();
    try {
      while (this.flushing) await this.flushing;
      await finishing?.catch(() => undefined);
      await this.reporting;
      await this.refreshing?.catch(() => undefined);
    } finally {
      this.closed = true;
      this.wake();
      this.notifications.stop();
      this.dropAppendClient();
      await this.pool.end().catch(() => undefined);
    }
  }
}

/** Until the engine listens: nothing is appended or discovered before `listen`. */
const NOBODY: LogListener = {
  foldsEvents: false,
  restoreSnapshot: () => undefined,
  replay: () => undefined,
  finishReplay: () => undefined,
  accepting: () => undefined,
  appended: () => undefined,
  discovered: () => undefined,
};

function refuseNul(value: string, what: string): void {
  if (value.includes('\u0000')) throw new InvalidInputError(`${what} holds the character U+0000, which PostgreSQL text cannot store`);
}

/** Opens a PostgreSQL log on `target` (a postgres:// or postgresql:// URL). */
export const openPostgresLog: OpenEventLog = async (target, options, replay) => {
  const started = performance.now();
  const settings = readPostgresOptions(options);
  const location = redact(target);
  const pool = new pg.Pool({ ...clientConfig(target, settings.durability === 'fsync'), max: 4 });
  // An idle connection the server closed (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      await migrate(client, location, settings.readOnly);
    } finally {
      client.release();
    }
    // The end and every stream's version as of that end, in one snapshot of the database.
    const { rows: [{ last: end, versions: listed }] } = await pool.query<{ last: number; versions: Array<[string, number]> | null }>(
      `SELECT l.next_position - 1 AS last,
              (SELECT json_agg(json_build_array(s.stream, s.version) ORDER BY s.first_position) FROM eventfold_streams s) AS versions
       FROM eventfold_log l`,
    );
    const snapshot: RecoveryReport['snapshot'] = { used: null, position: null, skipped: [], fullReplayReason: null };
    let replayed = 0;
    if (replay.foldsEvents) {
      let from = 0;
      const newest = await pool.query<{ id: number; position: number; projections: Buffer }>(
        'SELECT id, position, projections FROM eventfold_snapshots WHERE position <= $1 ORDER BY position DESC, id DESC LIMIT 1',
        [end],
      );
      const row = newest.rows[0];
      if (row) {
        const refused = replay.restoreSnapshot(unpack(row.projections) as Parameters<LogReplay['restoreSnapshot']>[0]);
        if (refused) {
          snapshot.fullReplayReason = `${refused}: every projection is rebuilt from the log`;
        } else {
          snapshot.used = `eventfold_snapshots id ${row.id}`;
          snapshot.position = row.position;
          from = row.position + 1;
        }
      }
      while (from <= end) {
        const page = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT ${PAGE}`, [from, end]);
        if (page.rows.length === 0) break;
        replay.replay(page.rows.map(eventOf));
        replayed += page.rows.length;
        from = page.rows[page.rows.length - 1].position + 1;
      }
      replay.finishReplay();
    }
    const recovery: RecoveryReport = {
      cleanShutdown: true,
      staleLockOwner: null,
      segmentsScanned: 0,
      eventsRecovered: end + 1,
      lastPosition: end,
      tornTail: null,
      rejectedWrites: [],
      quarantine: null,
      checkpoints: { reset: [], damaged: [] },
      removedFiles: [],
      snapshot,
      eventsReplayed: replayed,
      coveredLog: null,
      durationMs: performance.now() - started,
    };
    return new PostgresLog(target, location, settings, pool, new Map(listed ?? []), recovery);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw asStorageError(error, `Could not open the store at ${location}`);
  }
};
