/**
 * The PostgreSQL log: the engine's EventLog on a PostgreSQL database that
 * several processes (on several machines) share. See SCHEMA.md for the
 * tables and README "PostgreSQL" for what it guarantees.
 *
 * Appends: one store object group-commits the appends in flight, like the
 * file log's writer, one group at a time, each group one transaction on the
 * store's append connection:
 *
 *   BEGIN
 *   lock the position counter's row (held until COMMIT: the appends of every
 *     process are serialised from here to their commit)
 *   read and report every event committed before it (other processes'),
 *     so this process's stream versions and projection states are exact
 *   for each append: check its expected version, make its events (`prepare`),
 *     let the engine accept it (`accepting`, a projection may refuse it) at
 *     its exact positions and versions
 *   eventfold_write (insert the events, set the streams' versions, move the
 *     counter, notify) and COMMIT — one WAL flush for the group
 *
 * Positions are dense (a rolled-back transaction takes none) and commit in
 * position order: a reader paging by position never skips a committed event.
 *
 * What this process knows (`lastPosition`, stream versions) advances only
 * under one mutex, through the engine's listener, in position order: our
 * own groups once committed (`appended`), everybody else's when discovered
 * (`discovered`: inside our next transaction, and on notifications, polls and
 * `refresh`). A group holds the mutex for its whole transaction, so a
 * discovery never mistakes our own committed rows for another process's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AppendResult, RecordedEvent } from '../api';
import { NO_LISTENER, OutdatedStatesError, type EngineSnapshot, type EventLog, type LogAppend, type LogAppendOutcome, type LogHealth, type LogListener, type LogReplay, type LogStreamRead, type OpenEventLog, type StoredCheckpoint } from '../engine/event-log';
import { asStorageError, EventfoldError, ExpectedVersionConflictError, InvalidInputError, ReadOnlyStoreError, StorageError, StoreClosedError } from '../errors';
import { matchesExpectedVersion } from '../expected-version';
import { matchRetry, placeToExamine, windowToExamine, type StoredId } from '../lifecycle/idempotency';
import { changeAsEvent, SCAVENGE_FINISHED, SYSTEM_STREAM } from '../lifecycle/stream-metadata';
import type { EventInput as ValidEvent } from '../validate/validate-input';
import type { RecoveryReport } from '../log-reports';
import { appendSessionSettings, clientConfig, redact } from './connection';
import { Notifications } from './notifications';
import type { PostgresSettings } from './options';
import { EVENT_COLUMNS, eventOf, pack, unpack, type EventRow } from './payload';
import { migrate, SCHEMA_VERSION } from './schema';
import { scavengedBelow, scavengeTable, type ScavengeScope, type TransactionQuery } from './scavenge';
import type { ScavengeProgress, ScavengeResult } from '../log-reports';

/** Events read per query (readAll, readStream, replay, discovery). */
const PAGE = 2048;
/** Most events in one page of `readAll` (as the file log's: `store.readAllPages` promises it). */
const READ_ALL_PAGE = 256;
/** How long a dropped append connection's server session may take to end before its appends' outcome is declared unknown. */
const TERMINATE_WAIT_MS = 10_000;

/** An append's events packed for eventfold_write. */
interface Encoded {
  types: string[];
  ids: string[];
  timestamps: number[];
  data: Buffer[];
  metadata: Array<Buffer | null>;
  bytes: number;
}

/** One append of the queue. */
interface Queued {
  append: LogAppend;
  /** Its events as counted for back-pressure. */
  count: number;
  /** Packed at `append` (undefined for an append its `prepare` makes inside the transaction). */
  encoded: Encoded | undefined;
  outcome?: LogAppendOutcome;
  settle(outcome: LogAppendOutcome): void;
}

/** An append accepted at its place in the transaction. */
interface Placed {
  queued: Queued;
  encoded: Encoded;
  firstPosition: number;
  firstVersion: number;
}

/** The lost transaction is known not to have committed: the group can be placed again. */
class NotWritten extends Error {
  constructor(readonly cause: unknown) {
    super('not written');
  }
}

/** Takes the counter row's lock: held until COMMIT, it serialises the appends of every process. */
export const LOCK_COUNTER = 'SELECT next_position AS next FROM eventfold_log WHERE singleton FOR UPDATE';
/** The end of the log and every stream's version as of that end, in one snapshot of the database (the open, and discovery after a hole). */
const VERSIONS_AT_END = `SELECT l.next_position - 1 AS last,
  (SELECT json_agg(json_build_array(s.stream, s.version) ORDER BY s.first_position) FROM eventfold_streams s) AS versions
  FROM eventfold_log l`;
/** The removals count (SCHEMA.md "Scavenge"): events' rows deleted by how many transactions, and rows deleted in all. */
const REMOVALS = 'SELECT deletions, rows_deleted FROM eventfold_removals';
/** Writes the group and answers the transaction's id, by which a COMMIT lost on the way is looked up (settleLost). */
const WRITE = 'SELECT eventfold_write($1, $2, $3, $4, $5, $6, $7, $8), txid_current()::text AS txid';

function writeArguments(placed: Placed[]): unknown[] {
  const positions: number[] = [];
  const streams: string[] = [];
  const versions: number[] = [];
  const types: string[] = [];
  const ids: string[] = [];
  const timestamps: number[] = [];
  const data: Buffer[] = [];
  const metadata: Array<Buffer | null> = [];
  for (const { queued, encoded, firstPosition, firstVersion } of placed) {
    for (let i = 0; i < encoded.types.length; i++) {
      positions.push(firstPosition + i);
      streams.push(queued.append.stream);
      versions.push(firstVersion + i);
    }
    types.push(...encoded.types);
    ids.push(...encoded.ids);
    timestamps.push(...encoded.timestamps);
    data.push(...encoded.data);
    metadata.push(...encoded.metadata);
  }
  return [positions, streams, versions, types, ids, timestamps, data, metadata];
}

/** What refuses one append: a typed error as it is, anything else (msgpack) as InvalidInputError. */
function asOutcome(error: unknown): EventfoldError {
  return error instanceof EventfoldError ? error : new InvalidInputError(`an event cannot be stored: ${(error as Error)?.message ?? error}`, { cause: error });
}

/** Every event carries a caller-chosen id (and the events are the caller's, not made by `prepare`): a retry may be recognised. */
function carriesIds(append: LogAppend): boolean {
  return !append.prepare && append.events.length > 0 && append.events.every((event) => event.id !== undefined);
}

function connectionLost(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  // No SQLSTATE: the socket failed or was closed (or a socket error's code); class 08 and 57P0x: the server ended the session.
  return code === undefined || code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('08') || code.startsWith('57P0');
}

/** Connections of a store's pool (reads, scavenge batches; appends and notifications have their own). */
const POOL_SIZE = 4;

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
  /** The highest position a notification announced. */
  private notified = -1;
  private readonly notifications: Notifications;
  /** The engine, once it listens (see `listen`). */
  private listener: LogListener = NO_LISTENER;

  constructor(
    private readonly url: string,
    readonly location: string,
    private readonly settings: PostgresSettings,
    private readonly pool: pg.Pool,
    /** Every stream's last version known to this process, in the order the streams began. */
    private readonly versions: Map<string, number>,
    readonly recovery: RecoveryReport,
    /**
     * The deletions count (eventfold_removals) the projection states were
     * folded under: read before the open's replay, and before each rebuild
     * (projectionsBasis). A snapshot is stored only while the count is still
     * this (writeSnapshot); null for a read-only open of a schema older than 3.
     */
    private basis: number | null,
  ) {
    this.known = recovery.lastPosition;
    this.notifications = new Notifications(clientConfig(url), (last) => {
      if (last !== undefined && last > this.notified) this.notified = last;
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
    return this.enqueue(batch);
  }

  /** Queues a batch for the next group (`append` without its checks: the scavenge's own last record goes in while the store closes). */
  private enqueue(batch: readonly LogAppend[]): Promise<LogAppendOutcome[]> {
    const outcomes: LogAppendOutcome[] = new Array(batch.length);
    let unsettled = batch.length;
    return new Promise<LogAppendOutcome[]>((resolve) => {
      batch.forEach((append, i) => {
        const settle = (outcome: LogAppendOutcome) => {
          outcomes[i] = outcome;
          if (--unsettled === 0) resolve(outcomes);
        };
        const queued: Queued = { append, count: append.events.length, encoded: undefined, settle };
        // Packed now, outside the transaction (an engine's own append is made inside it, by `prepare`).
        if (!append.prepare) {
          try {
            queued.encoded = this.encode(append.stream, append.events);
          } catch (error) {
            settle(asOutcome(error));
            return;
          }
        }
        this.queue.push(queued);
        this.queuedEvents += queued.count;
      });
      if (this.queue.length > 0) this.flushing ??= this.flush();
    });
  }

  /** Packs events for eventfold_write (or takes the payloads validateEvents packed); refuses what PostgreSQL cannot hold. */
  private encode(stream: string, events: readonly ValidEvent[]): Encoded {
    refuseNul(stream, 'stream name');
    const encoded: Encoded = { types: [], ids: [], timestamps: [], data: [], metadata: [], bytes: 0 };
    const timestamp = Date.now();
    events.forEach((event, i) => {
      refuseNul(event.type, `event ${i} type`);
      const id = event.id ?? randomUUID();
      refuseNul(id, `event ${i} id`);
      const { data, metadata } = packedParts(event);
      const size = Buffer.byteLength(event.type) + Buffer.byteLength(id) + data.length + (metadata?.length ?? 0);
      if (size > this.settings.maxEventBytes) {
        throw new InvalidInputError(`event ${i} takes ${size} bytes encoded; the limit (maxEventBytes) is ${this.settings.maxEventBytes} bytes`);
      }
      encoded.types.push(event.type);
      encoded.ids.push(id);
      encoded.timestamps.push(timestamp);
      encoded.data.push(data);
      encoded.metadata.push(metadata);
      encoded.bytes += size;
    });
    return encoded;
  }

  /** The events of an append exactly as they will read back, at their positions and versions. */
  private asRead(stream: string, encoded: Encoded, firstPosition: number, firstVersion: number): RecordedEvent[] {
    return encoded.types.map(
      (type, i) =>
        ({
          position: firstPosition + i,
          stream,
          version: firstVersion + i,
          type,
          data: unpack(encoded.data[i]),
          metadata: encoded.metadata[i] === null ? null : unpack(encoded.metadata[i]!),
          id: encoded.ids[i],
          timestamp: encoded.timestamps[i],
        }) as RecordedEvent,
    );
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
          const size = next.encoded?.bytes ?? 0;
          if (group.length > 0 && (events + next.count > this.settings.maxBatchEvents || bytes + size > this.settings.maxBatchBytes)) break;
          group.push(this.queue.shift()!);
          events += next.count;
          bytes += size;
        }
        await this.exclusive(() => this.commit(group));
        this.queuedEvents -= events;
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

  /**
   * One group, one transaction (see the module comment); settles every
   * append of the group. Never throws. After a lost connection whose
   * transaction is found not written, the group is placed once more.
   */
  private async commit(group: Queued[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const placed: Placed[] = [];
      try {
        const written = await this.transaction(group, placed);
        if (written) this.report(placed);
        for (const queued of group) queued.settle(queued.outcome!);
        return;
      } catch (error) {
        // Nothing of the group is acknowledged: the engine forgets what it accepted.
        for (const place of placed) this.listener.refused?.(place.queued.append);
        const retry = error instanceof NotWritten && attempt === 1;
        if (!retry) {
          const failure = asStorageError(error instanceof NotWritten ? error.cause : error, `Could not append to ${this.location}`);
          for (const queued of group) queued.settle(failure);
          return;
        }
      }
    }
  }

  /**
   * BEGIN; lock the counter; learn every event committed before it; check,
   * make and accept each append at its exact place; write; COMMIT. Sets each
   * append's outcome; fills `placed` with the accepted ones. Resolves true
   * when something was committed. A lost connection rejects with NotWritten
   * when the transaction is known not to have committed (see settleLost).
   */
  private async transaction(group: Queued[], placed: Placed[]): Promise<boolean> {
    // A long backlog of other processes' events is taken in before the counter is locked, not while every writer waits.
    if (this.notified - this.known > PAGE) await this.discoverTo(this.notified);
    const client = await this.connectForAppends();
    let committing = false;
    let txid = '';
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ next: number }>(LOCK_COUNTER);
      let next = rows[0].next;
      // Everything before our place is committed and visible now: the engine folds it first, and our versions are exact.
      await this.discoverTo(next - 1);
      const versions = new Map<string, number>();
      const versionOf = (stream: string) => versions.get(stream) ?? this.versions.get(stream) ?? -1;
      for (const queued of group) {
        const { append } = queued;
        if (!versions.has(append.stream) && carriesIds(append)) {
          // Checked here, under the counter's lock, against the database: the engine's own check knows only this process's appends.
          try {
            const retry = await this.findRetry(client, append, versionOf(append.stream));
            if (retry) {
              queued.outcome = retry;
              continue;
            }
          } catch (error) {
            queued.outcome = asOutcome(error);
            continue;
          }
        }
        const checked = append.expectedVersionOf ?? append.stream;
        const current = versionOf(checked);
        if (!matchesExpectedVersion(append.expectedVersion, current)) {
          queued.outcome = new ExpectedVersionConflictError(checked, append.expectedVersion, current);
          continue;
        }
        const firstVersion = versionOf(append.stream) + 1;
        try {
          const encoded = queued.encoded ?? this.encode(append.stream, append.prepare!(current));
          this.listener.accepting(append, this.listener.foldsEvents ? this.asRead(append.stream, encoded, next, firstVersion) : null);
          placed.push({ queued, encoded, firstPosition: next, firstVersion });
          next += encoded.types.length;
          versions.set(append.stream, firstVersion + encoded.types.length - 1);
          queued.outcome = { position: next - 1, version: firstVersion + encoded.types.length - 1 } satisfies AppendResult;
        } catch (error) {
          queued.outcome = asOutcome(error);
        }
      }
      if (placed.length === 0) {
        await client.query('ROLLBACK');
        return false;
      }
      const written = await client.query<{ txid: string }>(WRITE, writeArguments(placed));
      txid = written.rows[0].txid;
      committing = true;
      await client.query('COMMIT');
      return true;
    } catch (error) {
      if (!connectionLost(error)) {
        await client.query('ROLLBACK').catch(() => this.dropAppendClient());
        throw error;
      }
      this.dropAppendClient();
      // Before COMMIT was sent the transaction cannot commit; during it, only the log can tell.
      if (!committing || (await this.settleLost(txid, (client as unknown as { processID: number | null }).processID, error)) === 'not written') {
        throw new NotWritten(error);
      }
      return true;
    }
  }

  /**
   * The first attempt's result when this append (every event with an id) is
   * a retry of one already committed, by any process: read in the append
   * transaction at the place the batch would take (lifecycle/idempotency.ts).
   */
  private async findRetry(client: pg.Client, append: LogAppend, lastVersion: number): Promise<AppendResult | null> {
    // The same two places as the engine looks at (lifecycle/idempotency.ts): after a numeric expected version, and the stream's last events.
    for (const place of [placeToExamine(append.expectedVersion, append.events.length, lastVersion), windowToExamine(append.events.length, lastVersion)]) {
      if (!place) continue;
      const { rows } = await client.query<StoredId>(
        'SELECT id, position, version FROM eventfold_events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3',
        [append.stream, place.fromVersion, place.count],
      );
      const found = matchRetry(append.stream, append.events.map((event) => event.id!), rows);
      if (found) return found;
    }
    return null;
  }

  /** Our committed appends, reported after every event before them (someone may have committed while we lost our connection). */
  private report(placed: Placed[]): void {
    const last = placed[placed.length - 1];
    const lastPosition = last.firstPosition + last.encoded.types.length - 1;
    for (const place of placed) this.versions.set(place.queued.append.stream, place.firstVersion + place.encoded.types.length - 1);
    // Before the engine hears of it: an automatic snapshot taken inside `appended` records this position (captureSnapshot).
    this.known = lastPosition;
    this.listener.appended(
      placed.map((place) => place.queued.append),
      lastPosition,
      0,
    );
    this.wake();
  }

  /**
   * The connection broke while COMMIT was out: committed or not? The old
   * server session is ended and waited for, so its transaction can no longer
   * commit; then the server is asked for that transaction's own fate
   * (txid_status of the id eventfold_write answered). Never inferred from the
   * events found at our positions: another process may have written the same
   * caller-chosen ids there.
   */
  private async settleLost(txid: string, pid: number | null, cause: unknown): Promise<'committed' | 'not written'> {
    const unknown = `The connection to ${this.location} was lost while an append was being committed, and whether it was written could not be found out: read the stream to know (an append with an expected version cannot be written twice)`;
    try {
      if (pid !== null) {
        const ended = await this.query<{ gone: boolean }>(
          'SELECT pg_terminate_backend($1, $2) OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1) AS gone',
          [pid, TERMINATE_WAIT_MS],
        );
        if (!ended.rows[0]?.gone) throw new Error('its server session did not end');
      }
      const { rows } = await this.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [txid]);
      const status = rows[0]?.status;
      if (status === 'committed') return 'committed';
      if (status === 'aborted') return 'not written';
      throw new Error(`its transaction ${txid} is ${status ?? 'too old to be known'}`);
    } catch (error) {
      throw new StorageError(unknown, error ?? cause);
    }
  }

  private async connectForAppends(): Promise<pg.Client> {
    if (this.appendClient) return this.appendClient;
    const client = new pg.Client(clientConfig(this.url));
    client.on('error', () => {
      if (this.appendClient === client) this.appendClient = undefined;
    });
    await client.connect();
    await client.query(appendSessionSettings(this.settings.durability));
    this.appendClient = client;
    return client;
  }

  private dropAppendClient(): void {
    const client = this.appendClient;
    this.appendClient = undefined;
    client?.end().catch(() => undefined);
  }

  // ---- what other processes appended ----

  /**
   * Reports every event up to `last` that this process has not seen (call
   * under the mutex). Rows a scavenge deleted leave holes in the positions:
   * accepted below the newest scavenge's record only (see scavenge.ts). The
   * removed rows' versions were never seen here, so after a hole every
   * stream's version is taken from eventfold_streams, as of one end.
   */
  private async discoverTo(last: number): Promise<void> {
    if (await this.discoverRows(last)) {
      for (;;) {
        const { rows } = await this.query<{ last: number; versions: Array<[string, number]> | null }>(VERSIONS_AT_END, []);
        const end = rows[0].last;
        await this.discoverRows(end);
        if (this.known !== end) continue;
        for (const [stream, version] of rows[0].versions ?? []) if (version > (this.versions.get(stream) ?? -1)) this.versions.set(stream, version);
        break;
      }
    }
    this.wake();
  }

  /** The rows after `known` up to `last`, reported to the engine; resolves true when it crossed a hole a scavenge left. */
  private async discoverRows(last: number): Promise<boolean> {
    let crossedHole = false;
    while (this.known < last) {
      const { rows } = await this.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE position > $1 AND position <= $2 ORDER BY position LIMIT ${PAGE}`,
        [this.known, last],
      );
      // Fewer rows than asked for means the page reached `last`: positions missing up to it are holes too.
      const end = rows.length < PAGE ? last : rows[rows.length - 1].position;
      const hole = await this.holesIn(this.known + 1, rows, end);
      if (hole) crossedHole = true;
      for (const row of rows) this.versions.set(row.stream, row.version);
      // Before the engine hears of them: an automatic snapshot taken inside `discovered` records this position.
      this.known = end;
      const events = rows.map(eventOf);
      this.listener.discovered(events, end);
      // A scavenge finished whose deletions the projection states were not folded under, or one crossed here whose
      // record a later scavenge removed: the engine rebuilds them (at once when nothing changed, see projectionsBasis).
      if (hole || events.some((event) => this.removedSinceBasis(event))) this.listener.eventsRemoved?.();
    }
    return crossedHole;
  }

  /** True for a `$scavenged` record whose deletions count is not the projection states' basis. */
  private removedSinceBasis(event: RecordedEvent): boolean {
    if (event.stream !== SYSTEM_STREAM || event.type !== SCAVENGE_FINISHED || this.basis === null) return false;
    return (event.data as { deletions?: unknown }).deletions !== this.basis;
  }

  /** The position below which a scavenge may have deleted rows (cached; it only grows). */
  private holesBelow = -1;

  /**
   * Checks that `rows` are every row from `from` to `to` but those a
   * scavenge deleted (holes below the newest scavenge record); resolves true
   * when there were holes. Anything else is not what this schema writes:
   * StorageError, as for missing rows before any scavenge.
   */
  private async holesIn(from: number, rows: readonly { position: number }[], to: number): Promise<boolean> {
    if (rows.length === to - from + 1 && (rows.length === 0 || (rows[0].position === from && rows[rows.length - 1].position === to))) return false;
    // The last position missing: before a row, or at the end of the range.
    let lastMissing = -1;
    let expected = from;
    for (const { position } of rows) {
      if (position !== expected) lastMissing = position - 1;
      expected = position + 1;
    }
    if (expected <= to) lastMissing = to;
    if (lastMissing >= this.holesBelow) this.holesBelow = await scavengedBelow({ query: (sql, values) => this.query(sql, values) });
    if (lastMissing >= this.holesBelow) {
      throw new StorageError(`Could not read the events from position ${from} of ${this.location}`, new Error(`position ${lastMissing} is missing, and no scavenge removed it (found ${rows.length} rows from ${from} to ${to})`));
    }
    return true;
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
      // Positions are dense but where a scavenge deleted rows: any other hole is not what this schema writes.
      await this.holesIn(next, rows, last).catch((error: unknown) => {
        throw asStorageError(error, `Could not read ${this.location}`);
      });
      // Handed out in pages of at most READ_ALL_PAGE events (what `readAllPages` promises), fetched PAGE at a time.
      for (let at = 0; at < rows.length; at += READ_ALL_PAGE) yield rows.slice(at, at + READ_ALL_PAGE).map(eventOf);
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
    // The basis the states were folded under, captured with them.
    return { position: this.known, log: { deletions: this.basis } };
  }

  /**
   * Stores a snapshot, unless events' rows were deleted since its states were
   * folded (the deletions count is not the one captured with them): then
   * nothing is stored and it rejects with OutdatedStatesError. The count is
   * locked FOR SHARE until the snapshot commits, and a scavenge's deleting
   * transaction locks it FOR UPDATE and deletes every snapshot: so no
   * snapshot of states folded from deleted rows is ever left stored, whatever
   * the timing (SCHEMA.md "Scavenge").
   */
  async writeSnapshot(snapshot: EngineSnapshot): Promise<string> {
    if (this.readOnly) throw new ReadOnlyStoreError(this.location);
    const basis = (snapshot.log as { deletions: number | null }).deletions;
    try {
      const id = await this.inTransaction(async (query) => {
        const { rows: [count] } = await query<{ deletions: number }>('SELECT deletions FROM eventfold_removals WHERE singleton FOR SHARE', []);
        if (count.deletions !== basis) return undefined;
        const { rows } = await query<{ id: number }>(
          'INSERT INTO eventfold_snapshots (position, projections, created_at) VALUES ($1, $2, $3) RETURNING id',
          [snapshot.position, pack(snapshot.projections), snapshot.createdAt],
        );
        await query('DELETE FROM eventfold_snapshots WHERE id NOT IN (SELECT id FROM eventfold_snapshots ORDER BY position DESC, id DESC LIMIT $1)', [this.settings.keepSnapshots]);
        return rows[0].id;
      });
      if (id === undefined) throw new OutdatedStatesError(this.location);
      return `eventfold_snapshots id ${id}`;
    } catch (error) {
      if (error instanceof OutdatedStatesError) throw error;
      throw asStorageError(error, `Could not write a snapshot to ${this.location}`);
    }
  }

  /** See EventLog.projectionsBasis: the deletions count now, against the states' basis. */
  async projectionsBasis(): Promise<{ current: boolean; adopt(): void }> {
    if (this.basis === null) return { current: true, adopt: () => undefined };
    const { rows } = await this.query<{ deletions: number }>(REMOVALS, []);
    const now = rows[0].deletions;
    return { current: now === this.basis, adopt: () => (this.basis = now) };
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

  // ---- scavenge ----

  /** Deletes the rows of the events `removed` says are gone, then VACUUMs (see scavenge.ts and SCHEMA.md "Scavenge"). */
  async scavenge(removed: (stream: string, version: number, timestamp: number) => boolean, onProgress?: (progress: ScavengeProgress) => void, scope?: ScavengeScope): Promise<ScavengeResult> {
    if (this.readOnly) throw new ReadOnlyStoreError(this.location);
    if (this.closing) throw new StoreClosedError();
    if (!scope) throw new InvalidInputError('a scavenge on PostgreSQL needs the streams that can lose events and the position of its own record');
    const host = {
      query: <R extends pg.QueryResultRow>(sql: string, values: unknown[]) => this.query<R>(sql, values),
      stopping: () => this.closing,
      location: this.location,
      known: () => this.known,
      refresh: () => this.refresh(),
      transaction: <T>(work: (query: TransactionQuery) => Promise<T>) => this.inTransaction(work),
      finished: () => this.appendScavengeFinished(),
    };
    // The caller's own progress callback's error reaches the caller as it is (as on the file log), not as a StorageError.
    let callbackError: unknown;
    const progress = onProgress && ((report: ScavengeProgress) => {
      try {
        onProgress(report);
      } catch (error) {
        callbackError = error;
        throw error;
      }
    });
    const running = scavengeTable(host, removed, scope, progress);
    this.scavenges.add(running);
    try {
      return await running;
    } catch (error) {
      if (callbackError !== undefined && error === callbackError) throw error;
      throw asStorageError(error, `Could not scavenge ${this.location}`);
    } finally {
      this.scavenges.delete(running);
    }
  }

  /**
   * Runs `work` in one transaction on a pool connection (BEGIN … COMMIT,
   * ROLLBACK when it throws). Idempotent work only: after a lost connection
   * it is run again on a fresh one, up to once per connection of the pool
   * (the server may have ended them all).
   */
  private async inTransaction<T>(work: (query: TransactionQuery) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | undefined;
      let lost = false;
      // A session the server ends while this transaction holds it is reported here too, not only to the statement under way.
      const onError = () => {
        lost = true;
      };
      try {
        client = await this.pool.connect();
        client.on('error', onError);
        const on = client;
        await on.query('BEGIN');
        const result = await work((sql, values) => on.query(sql, values));
        await on.query('COMMIT');
        on.off('error', onError);
        on.release();
        return result;
      } catch (error) {
        if (client) {
          const held = client;
          if (!lost && !connectionLost(error)) await held.query('ROLLBACK').catch(() => undefined);
          held.off('error', onError);
          held.release(lost || connectionLost(error) ? true : undefined);
        }
        if (attempt >= POOL_SIZE || !(lost || connectionLost(error)) || this.closed) throw error;
      }
    }
  }

  /**
   * The `$scavenged` record (SCHEMA.md "Scavenge" step 5), with the deletions
   * count after this run's last delete: a process that takes it in and whose
   * states were folded under another count rebuilds them (discoverRows).
   * Appended even while the store closes: close() waits for it.
   */
  private async appendScavengeFinished(): Promise<void> {
    const { rows } = await this.query<{ deletions: number }>(REMOVALS, []);
    const event = changeAsEvent({ scavengeFinished: new Date().toISOString(), deletions: rows[0].deletions });
    const [outcome] = await this.enqueue([{ stream: SYSTEM_STREAM, events: [event], expectedVersion: 'any' }]);
    if (outcome instanceof EventfoldError) throw outcome;
  }

  /** Scavenges under way: close waits for them (they stop after their current statement). */
  private readonly scavenges = new Set<Promise<ScavengeResult>>();

  // ---- closing ----

  async abandon(): Promise<void> {
    this.closing = true;
    this.closed = true;
    this.wake();
    for (const wake of this.roomWaiters) wake();
    this.notifications.stop();
    this.dropAppendClient();
    await this.pool.end().catch(() => undefined);
  }

  async close(finishing?: Promise<unknown>): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    for (const wake of this.roomWaiters) wake();
    try {
      while (this.flushing) await this.flushing;
      await finishing?.catch(() => undefined);
      await Promise.allSettled(this.scavenges);
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

function refuseNul(value: string, what: string): void {
  if (value.includes('\u0000')) throw new InvalidInputError(`${what} holds the character U+0000, which PostgreSQL text cannot store`);
}

/** A PostgreSQL log's checked arguments: the URL and its settings (see open-postgres.ts). */
export interface PostgresArguments {
  target: string;
  settings: PostgresSettings;
}

/** Opens a PostgreSQL log on `target` (a postgres:// or postgresql:// URL). */
export const openPostgresLog: OpenEventLog<PostgresArguments> = async ({ target, settings }, replay) => {
  const started = performance.now();
  const location = redact(target);
  const pool = new pg.Pool({ ...clientConfig(target), max: POOL_SIZE });
  // An idle connection the server closed (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    let schema: number;
    let opened: { end: number; listed: Array<[string, number]> | null; removals: { deletions: number; rows_deleted: number } | null };
    try {
      schema = await migrate(client, location, settings.readOnly);
      // The end, every stream's version as of that end and the removals count, in one snapshot of the database,
      // read before any event: the count is the basis of the states the replay folds (see PostgresLog.basis).
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const { rows: [{ last, versions }] } = await client.query<{ last: number; versions: Array<[string, number]> | null }>(VERSIONS_AT_END);
        // A read-only open of an older schema (no removals table): every missing row counted.
        const { rows: [removals] } =
          schema === SCHEMA_VERSION
            ? await client.query<{ deletions: number; rows_deleted: number }>(REMOVALS)
            : await client.query<{ deletions: number; rows_deleted: number }>('SELECT NULL AS deletions, $1::bigint + 1 - count(*) AS rows_deleted FROM eventfold_events', [last]);
        opened = { end: last, listed: versions, removals };
      } finally {
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
    const { end, listed, removals } = opened;
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
      // Events stored, not positions: the positions of the rows scavenges deleted are counted out.
      eventsRecovered: end + 1 - Number(removals?.rows_deleted ?? 0),
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
    return new PostgresLog(target, location, settings, pool, new Map(listed ?? []), recovery, removals?.deletions ?? null);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw asStorageError(error, `Could not open the store at ${location}`);
  }
};

/** An event's data and metadata (null: none) as msgpack: the bytes validateEvents packed, or packed here (events made by `prepare`). */
function packedParts(event: ValidEvent): { data: Buffer; metadata: Buffer | null } {
  const { packed } = event;
  if (packed) {
    const metadata = event.dataStart !== event.payloadStart ? packed.subarray(event.dataEnd, event.payloadEnd) : null;
    return { data: packed.subarray(event.dataStart, event.dataEnd), metadata };
  }
  return { data: pack(event.data ?? null), metadata: event.metadata !== undefined && event.metadata !== null ? pack(event.metadata) : null };
}
