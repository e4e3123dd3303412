/**
 * Scavenge on PostgreSQL: deletes the rows of the events that retention and
 * deletion removed, then VACUUMs, so their space is reused (or, with
 * `erase`, VACUUM FULL rewrites the table and the bytes leave its files).
 * SCHEMA.md ("Scavenge") is the contract; this is how it runs:
 *
 * - The engine first appends the scavenge's own record (`$scavenge` in
 *   `$lifecycle`, position W). Only rows below W are ever deleted, and of
 *   `$lifecycle` only earlier scavenges' records: a reader that meets a
 *   hole in the positions accepts it only below the newest `$scavenge`
 *   (`scavengedBelow`), which is never deleted while it is the newest, and
 *   reports anything else as missing rows, as before.
 * - Only the streams that have retention settings or a deletion can lose
 *   events. Each is walked by version from its start, a batch of BATCH rows
 *   at a time (its (stream, version) index), up to its first kept event:
 *   what a scavenge removes is a prefix of a stream, as on the file log.
 *   Each batch is deleted by position in a short transaction of its own
 *   that holds the position counter FOR SHARE (appends wait for it: no
 *   retention change can commit meanwhile) and deletes nothing when a
 *   `$lifecycle` change this process has not taken in exists: it takes it
 *   in and judges the batch again (deleteUnlessLifecycleChanged). Reads go on.
 *   A scavenge stopped anywhere (its process killed, its session ended)
 *   leaves whole batches deleted and the rest in place; every row left is
 *   untouched, and a rerun finishes the work.
 * - Positions come from the counter (eventfold_log), which a scavenge never
 *   changes: they are never reused. eventfold_streams keeps every stream's
 *   last version, so versions are never reused either.
 * - Each batch's transaction also counts its rows in eventfold_removals and
 *   deletes every snapshot (their projection states may hold what was
 *   folded from the rows), under that row's lock, which a snapshot's
 *   transaction holds FOR SHARE: no snapshot of states folded before a
 *   deletion is left stored, whichever process wrote it (countRemoval,
 *   PostgresLog.writeSnapshot). The run then erases `$metadata` rows
 *   nothing reads (eraseSystemRecords), removes earlier scavenges' records
 *   (removeOlderMarkers) and appends its `$scavenged` record, on which the
 *   other processes rebuild their projections.
 * - An erasing one rewrites the tables only once no session holds a snapshot
 *   older than the deletions (eraseTable), and drops the payload columns'
 *   statistics.
 */
import type pg from 'pg';
import type { ScavengeProgress, ScavengeResult } from '../log-reports';
import type { RecordedEvent } from '../api';
import { METADATA_SET, SCAVENGE_FINISHED, SCAVENGE_STARTED, SYSTEM_STREAM } from '../lifecycle/stream-metadata';
import { ErasureIncompleteError, StoreClosedError } from '../errors';
import { EVENT_COLUMNS, eventOf, pack, type EventRow } from './payload';
import { PAYLOAD_STATISTICS_CLEARED } from './schema';

/** Rows examined (and at most deleted) per statement. */
export const BATCH = 1000;

/** What a scavenge on PostgreSQL needs from the open log. */
export interface TableScavengeHost {
  query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  /** True once the store is closing: the scavenge stops between batches. */
  stopping(): boolean;
  /** The store's location, for errors. */
  readonly location: string;
  /** The last position this process has taken in (its own appends and other processes'): what `removed` judges by. */
  known(): number;
  /** Takes in what other processes appended (their lifecycle changes included), so `removed` judges by them. */
  refresh(): Promise<number>;
  /** Runs `work` in one transaction of its own (idempotent work: it may be run again after a lost connection). */
  transaction<T>(work: (query: TransactionQuery) => Promise<T>): Promise<T>;
  /** Appends the record that this run deletes nothing more (`$scavenged`, SCHEMA.md "Scavenge" step 5), even while the store closes. */
  finished(): Promise<void>;
}

/** A statement inside a transaction of `TableScavengeHost.transaction`. */
export type TransactionQuery = <R extends pg.QueryResultRow>(sql: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

/** What `store.scavenge` was asked to do (see EventLog.scavenge). */
export interface ScavengeScope {
  /** The streams that have retention settings or a deletion: no other stream loses events. */
  streams: readonly string[];
  /** Rewrite the table (VACUUM FULL) so that the removed events' bytes are in none of its files. */
  erase: boolean;
  /** Position of this scavenge's own record: only rows below it are deleted. */
  below: number;
  /** `removed` as of a given now: the scavenge takes the server's clock, which every instance shares. */
  removedAt?: (now: number) => (stream: string, version: number, timestamp: number) => boolean;
  /** For a `$metadata` record nothing reads any more: what it is rewritten as (see eraseSystemRecords); null to keep it. */
  redact?: (event: RecordedEvent) => { type: string; data: unknown } | null;
}

/**
 * The position below which rows may be missing: that of the newest scavenge
 * record (-1 when no scavenge ever started). Rows at or above it are dense.
 */
export async function scavengedBelow(host: Pick<TableScavengeHost, 'query'>): Promise<number> {
  const { rows } = await host.query<{ below: number | null }>('SELECT max(position) AS below FROM eventfold_events WHERE stream = $1 AND type = $2', [SYSTEM_STREAM, SCAVENGE_STARTED]);
  return rows[0]?.below ?? -1;
}

/** The server's clock (the start of this statement's transaction), in ms since the epoch. */
async function serverNow(host: Pick<TableScavengeHost, 'query'>): Promise<number> {
  const { rows } = await host.query<{ now: number }>('SELECT (extract(epoch FROM now()) * 1000)::float8 AS now', []);
  return Number(rows[0].now);
}

/** Bytes of the events table with its TOAST table and indexes, as the server counts them (pg_total_relation_size). */
async function tableBytes(host: TableScavengeHost): Promise<number> {
  const { rows } = await host.query<{ bytes: number }>(`SELECT pg_total_relation_size('eventfold_events') AS bytes`, []);
  return rows[0].bytes;
}

export async function scavengeTable(
  host: TableScavengeHost,
  removed: (stream: string, version: number, timestamp: number) => boolean,
  scope: ScavengeScope,
  onProgress?: (progress: ScavengeProgress) => void,
): Promise<ScavengeResult> {
  const started = performance.now();
  const { below } = scope;
  // maxAge is judged by the server's clock, the one every instance shares: a machine whose clock runs ahead
  // would otherwise delete, for every instance and for good, events the others still keep.
  if (scope.removedAt) removed = scope.removedAt(await serverNow(host));
  const bytesBefore = await tableBytes(host);
  const result: ScavengeResult = { segmentsDone: 0, segmentsTotal: scope.streams.length, bytesBefore, bytesAfter: bytesBefore, eventsRemoved: 0, segmentsRewritten: 0, quarantinedRecordsZeroed: 0, metadataRecordsErased: 0, durationMs: 0 };
  const report = () => onProgress?.({ segmentsDone: result.segmentsDone, segmentsTotal: result.segmentsTotal, bytesBefore, bytesAfter: result.bytesAfter, eventsRemoved: result.eventsRemoved });
  let stopped = false;
  let walkFailed = false;
  try {
    for (const stream of scope.streams) {
      const walked = await scavengeStream(host, stream, below, removed, (deleted) => {
        result.eventsRemoved += deleted;
        report();
      });
      if (walked.removed > 0) result.segmentsRewritten++;
      // A stream whose walk close() cut short is not done: the rerun finishes it.
      if (!walked.complete) {
        stopped = true;
        break;
      }
      result.segmentsDone++;
      report();
    }
    if (!stopped && scope.redact) result.metadataRecordsErased = await eraseSystemRecords(host, below, scope.redact);
    if (!stopped && !host.stopping()) await removeOlderMarkers(host, below);
  } catch (error) {
    walkFailed = true;
    throw error;
  } finally {
    // Whatever became of the walk, this run deletes nothing more: the other processes rebuild their projections
    // (unless it was killed: then the next one's record tells them, and meanwhile their snapshots are refused).
    // After a failed walk the walk's error is the one to report.
    await host.finished().catch((error: unknown) => {
      if (!walkFailed) throw error;
    });
  }
  if (stopped || host.stopping()) throw closedDuring(result, scope.erase ? 'nothing was rewritten (the erasure is not complete)' : 'the table was not vacuumed');
  if (scope.erase) {
    await eraseTable(host);
  } else if (result.eventsRemoved > 0) {
    // VACUUM cannot run inside a transaction: each is a statement of its own on the pool.
    await host.query('VACUUM eventfold_events', []);
    await host.query('VACUUM eventfold_snapshots', []);
  }
  result.bytesAfter = await tableBytes(host);
  result.durationMs = performance.now() - started;
  return result;
}

/** close() stopped the scavenge before its end (as on the file log, the caller hears it): what was done stays done. */
function closedDuring(result: ScavengeResult, after: string): StoreClosedError {
  return new StoreClosedError(
    `The store was closed while it was scavenged: ${result.segmentsDone} of ${result.segmentsTotal} streams were done (${result.eventsRemoved} events removed) and ${after}; scavenge again after the next open`,
  );
}

/** How long an erasing scavenge waits for older snapshots of other sessions to end before it fails (ErasureIncompleteError). */
export const ERASE_WAIT_MS = 10_000;

/**
 * Rewrites the events and snapshots tables (VACUUM FULL) so that the deleted
 * rows' bytes are in none of their files, and drops the payload columns'
 * statistics (SCHEMA.md "Scavenge", "Erasure"). VACUUM FULL copies every row
 * a snapshot still in use may see — a deleted row too, while a session holds
 * a snapshot older than its deletion — so it runs only once no session of
 * the database (nor a prepared transaction or a replication slot) holds one:
 * it waits up to ERASE_WAIT_MS, then fails with ErasureIncompleteError
 * (nothing rewritten, no false success).
 */
async function eraseTable(host: TableScavengeHost): Promise<void> {
  // A transaction id newer than every deleting one (all committed): a snapshot older than it may still see deleted rows.
  const { rows } = await host.query<{ mark: string }>('SELECT pg_current_xact_id()::text AS mark', []);
  const mark = rows[0].mark;
  const waitFrom = performance.now();
  for (;;) {
    const blockers = await olderSnapshots(host, mark);
    if (blockers.length === 0) break;
    const waited = performance.now() - waitFrom;
    if (waited >= ERASE_WAIT_MS || host.stopping()) throw new ErasureIncompleteError(host.location, blockers, waited);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await host.query(PAYLOAD_STATISTICS_CLEARED, []);
  await host.query('VACUUM FULL eventfold_events', []);
  await host.query('VACUUM FULL eventfold_snapshots', []);
  // The dropped statistics' old tuples leave pg_statistic's file too. Allowed to a superuser and to the
  // database's owner; anyone else gets a warning (not an error) and SCHEMA.md says what then stays.
  await host.query('VACUUM FULL pg_statistic', []);
}

/** Sessions, prepared transactions and replication slots holding a snapshot (or a transaction) older than `mark`, described for the error. */
async function olderSnapshots(host: TableScavengeHost, mark: string): Promise<string[]> {
  const { rows } = await host.query<{ who: string }>(
    `WITH m AS (SELECT age($1::xid8::xid) AS mark_age)
     SELECT format('session pid %s (%s, %s, since %s)', a.pid, coalesce(nullif(a.application_name, ''), 'no application name'), coalesce(a.state, 'unknown state'), coalesce(a.xact_start::text, 'unknown')) AS who
       FROM pg_stat_activity a, m
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
        AND (age(a.backend_xmin) > m.mark_age OR age(a.backend_xid) > m.mark_age)
     UNION ALL
     SELECT format('prepared transaction %s', p.gid) FROM pg_prepared_xacts p, m
      WHERE p.database = current_database() AND age(p.transaction) > m.mark_age
     UNION ALL
     SELECT format('replication slot %s', r.slot_name) FROM pg_replication_slots r, m
      WHERE (r.database IS NULL OR r.database = current_database()) AND age(r.xmin) > m.mark_age`,
    [mark],
  );
  return rows.map((row) => row.who);
}

/**
 * Deletes the rows at `positions` (below `below`) in one transaction that
 * first takes the position counter's row FOR SHARE — no append, and so no
 * change of retention or deletion (an append to `$lifecycle`), can commit
 * until it ends — and then looks for a `$lifecycle` row (other than a
 * scavenge's record) after `judgedAt`, the last position this process had
 * taken in when it judged the batch.
 * If there is one, the batch was judged by retention this process no longer
 * knows to be current (a loosening acknowledged meanwhile may have brought
 * these events back): nothing is deleted and it resolves 'changed'.
 * Otherwise the judgement is that of the lifecycle state as of this
 * transaction, and it resolves with the rows deleted.
 */
async function deleteUnlessLifecycleChanged(host: TableScavengeHost, positions: number[], below: number, judgedAt: number): Promise<number | 'changed'> {
  return host.transaction(async (query) => {
    // First, before the counter (so appends do not wait meanwhile): waits for snapshots being stored (they hold it
    // FOR SHARE); each is either deleted below or refused once this commits.
    await query(LOCK_REMOVALS, []);
    await query('SELECT 1 FROM eventfold_log WHERE singleton FOR SHARE', []);
    const { rows } = await query<{ changed: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM eventfold_events WHERE stream = $1 AND type NOT IN ($2, $3) AND position > $4) AS changed',
      [SYSTEM_STREAM, SCAVENGE_STARTED, SCAVENGE_FINISHED, judgedAt],
    );
    if (rows[0].changed) return 'changed';
    const deleted = await query('DELETE FROM eventfold_events WHERE position = ANY($1::bigint[]) AND position < $2', [positions, below]);
    const count = deleted.rowCount ?? 0;
    if (count > 0) await countRemoval(query, count, true);
    return count;
  });
}

/** Locks the removals count (SCHEMA.md "Scavenge"): a deleting transaction takes it FOR UPDATE, a snapshot's FOR SHARE. */
const LOCK_REMOVALS = 'SELECT deletions FROM eventfold_removals WHERE singleton FOR UPDATE';

/**
 * Counts `rows` deleted (under LOCK_REMOVALS, in the deleting transaction).
 * When they were events that projections fold (`folded`), the deletions
 * count moves on and every snapshot goes in the same transaction: a snapshot
 * stored before is deleted here, one whose states were folded before is
 * refused after (PostgresLog.writeSnapshot), and a scavenge stopped anywhere
 * leaves no snapshot of the rows it deleted.
 */
async function countRemoval(query: TransactionQuery, rows: number, folded: boolean): Promise<void> {
  await query(`UPDATE eventfold_removals SET rows_deleted = rows_deleted + $1${folded ? ', deletions = deletions + 1' : ''} WHERE singleton`, [rows]);
  if (folded) await query('DELETE FROM eventfold_snapshots', []);
}

/**
 * The store's own rows that no longer matter (SCHEMA.md "Scavenge" step 4):
 * the records of earlier scavenges' starts and ends, below this one's
 * record. Readers accept holes below the newest start record, which is this
 * one's or a later one's: it is never among them.
 */
async function removeOlderMarkers(host: TableScavengeHost, below: number): Promise<void> {
  await host.transaction(async (query) => {
    await query(LOCK_REMOVALS, []);
    const deleted = await query('DELETE FROM eventfold_events WHERE stream = $1 AND type IN ($2, $3) AND position < $4', [SYSTEM_STREAM, SCAVENGE_STARTED, SCAVENGE_FINISHED, below]);
    if ((deleted.rowCount ?? 0) > 0) await countRemoval(query, deleted.rowCount!, false);
  });
}

/**
 * Rewrites, in place, each `$metadata` row of `$lifecycle` below `below`
 * that nothing reads any more (`redact` names them: a later one replaced
 * it, or its stream was deleted for good) as the file log does: type
 * `$erased`, the data saying only that, no metadata; position, version, id
 * and timestamp stay, and so does every `$deleted` row (it refuses later
 * appends). Which rows are erasable only grows, so no lock is needed.
 * Resolves with the rows rewritten.
 */
async function eraseSystemRecords(host: TableScavengeHost, below: number, redact: NonNullable<ScavengeScope['redact']>): Promise<number> {
  let erased = 0;
  let fromVersion = 0;
  for (;;) {
    if (host.stopping()) return erased;
    const { rows } = await host.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventfold_events WHERE stream = $1 AND version >= $2 AND position < $3 ORDER BY version LIMIT $4`,
      [SYSTEM_STREAM, fromVersion, below, BATCH],
    );
    const positions: number[] = [];
    const types: string[] = [];
    const data: Buffer[] = [];
    for (const row of rows) {
      if (row.type !== METADATA_SET) continue;
      const replacement = redact(eventOf(row));
      if (!replacement) continue;
      positions.push(row.position);
      types.push(replacement.type);
      data.push(pack(replacement.data));
    }
    if (positions.length > 0) {
      const updated = await host.query(
        `UPDATE eventfold_events e SET type = r.type, data = r.data, metadata = NULL
           FROM unnest($1::bigint[], $2::text[], $3::bytea[]) AS r(position, type, data)
          WHERE e.position = r.position AND e.type = $4`,
        [positions, types, data, METADATA_SET],
      );
      erased += updated.rowCount ?? 0;
    }
    if (rows.length < BATCH) return erased;
    fromVersion = rows[rows.length - 1].version + 1;
  }
}

/** Deletes one stream's removed prefix below `below`, a batch at a time; `complete` is false when close() stopped it first. */
async function scavengeStream(
  host: TableScavengeHost,
  stream: string,
  below: number,
  removed: (stream: string, version: number, timestamp: number) => boolean,
  deletedBatch: (rows: number) => void,
): Promise<{ removed: number; complete: boolean }> {
  let total = 0;
  let fromVersion = 0;
  for (;;) {
    if (host.stopping()) return { removed: total, complete: false };
    const { rows } = await host.query<{ position: number; version: number; timestamp_ms: number }>(
      'SELECT position, version, timestamp_ms FROM eventfold_events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3',
      [stream, fromVersion, BATCH],
    );
    // What this process has taken in as the batch is judged (synchronously, below): the delete checks for anything newer.
    const judgedAt = host.known();
    const gone: number[] = [];
    let reachedKept = false;
    for (const row of rows) {
      // Appended after the scavenge started, or kept: this event and every later one of the stream stay.
      if (row.position >= below || !removed(stream, row.version, row.timestamp_ms)) {
        reachedKept = true;
        break;
      }
      gone.push(row.position);
    }
    if (gone.length > 0) {
      const deleted = await deleteUnlessLifecycleChanged(host, gone, below, judgedAt);
      if (deleted === 'changed') {
        // A retention or deletion change this process had not taken in: learn it, and judge this batch again.
        await host.refresh();
        continue;
      }
      total += deleted;
      deletedBatch(deleted);
    }
    if (reachedKept || rows.length < BATCH) return { removed: total, complete: true };
    fromVersion = rows[rows.length - 1].version + 1;
  }
}
