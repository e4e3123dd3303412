/**
 * Creates and migrates eventfold's tables (see SCHEMA.md, the format written
 * down). Safe when several processes open an empty database at once: the
 * creation runs under a transaction-scoped advisory lock.
 */
import type { ClientBase } from 'pg';
import { StoreNotFoundError, UnsupportedFormatError } from '../errors';

export const SCHEMA_VERSION = 3;

/**
 * Version 2: the payload columns keep no planner statistics. ANALYZE (the
 * one autovacuum runs on its own) copies sampled values of every column into
 * pg_statistic, readable through pg_stats by any role that can read the
 * table, where neither a scavenge nor VACUUM FULL reaches them: the bytes of
 * hard-deleted events would outlive their erasure. No query of eventfold
 * filters or sorts by `data` or `metadata`, so their statistics serve
 * nothing. Run on creation and when migrating a version 1 schema.
 */
const PAYLOAD_STATISTICS_OFF = 'ALTER TABLE eventfold_events ALTER COLUMN data SET STATISTICS 0, ALTER COLUMN metadata SET STATISTICS 0';

/**
 * Removes whatever statistics of the payload columns pg_statistic holds (a
 * version 1 schema's, sampled before version 2 turned them off): altering a
 * column to its own type drops its statistics, without rewriting the table
 * (bytea to bytea needs no conversion). Takes the table's ACCESS EXCLUSIVE
 * lock for that instant; the erasing scavenge runs it (it takes that lock
 * for its rewrite anyway), and so does the migration from version 1.
 */
export const PAYLOAD_STATISTICS_CLEARED = 'ALTER TABLE eventfold_events ALTER COLUMN data TYPE bytea, ALTER COLUMN metadata TYPE bytea';

/** Key of the advisory lock the migration holds ("eventfold" in ASCII, as a 64-bit number). */
export const MIGRATION_LOCK = '7311142570156257132';

/**
 * Version 3: what scavenges deleted, counted (see SCHEMA.md "Scavenge").
 * `deletions` counts the transactions that deleted events' rows: projection
 * states folded before one of them may hold what it deleted, and a snapshot
 * is stored only while the count is still the one its states were folded
 * under. `rows_deleted` counts every row any scavenge deleted: the rows
 * stored are `next_position - rows_deleted`.
 */
const CREATE_REMOVALS = `CREATE TABLE IF NOT EXISTS eventfold_removals (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), deletions bigint NOT NULL, rows_deleted bigint NOT NULL);`;

/**
 * Version 2 (or 1) to 3: the removals row starts with the rows missing so far
 * (only scavenges delete rows), and the snapshots go: a version 2 scavenge
 * let other processes write snapshots of states folded from the rows it was
 * deleting (review-pg #3/#7), and nothing tells those from sound ones. The
 * next open of each process replays the log.
 */
async function migrateToRemovals(client: ClientBase): Promise<void> {
  await client.query(CREATE_REMOVALS);
  await client.query(
    `INSERT INTO eventfold_removals (deletions, rows_deleted)
     SELECT 0, l.next_position - (SELECT count(*) FROM eventfold_events) FROM eventfold_log l ON CONFLICT DO NOTHING`,
  );
  await client.query('DELETE FROM eventfold_snapshots');
}

const CREATE = `
CREATE TABLE IF NOT EXISTS eventfold_schema (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL);
CREATE TABLE IF NOT EXISTS eventfold_log (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), next_position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS eventfold_events (
  position bigint PRIMARY KEY,
  stream text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  id text NOT NULL,
  timestamp_ms double precision NOT NULL,
  data bytea NOT NULL,
  metadata bytea,
  UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS eventfold_streams (stream text PRIMARY KEY, version bigint NOT NULL, first_position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS eventfold_checkpoints (name text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS eventfold_snapshots (id bigserial PRIMARY KEY, position bigint NOT NULL, projections bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
${CREATE_REMOVALS}
CREATE OR REPLACE FUNCTION eventfold_write(
  p_positions bigint[], p_streams text[], p_versions bigint[],
  p_types text[], p_ids text[], p_timestamps double precision[], p_data bytea[], p_metadata bytea[]
) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  next_pos bigint;
  n integer := coalesce(array_length(p_positions, 1), 0);
BEGIN
  -- A no-op when the caller already holds the counter's lock (it must: it chose the positions after taking it).
  SELECT l.next_position INTO next_pos FROM eventfold_log l WHERE l.singleton FOR UPDATE;
  IF n = 0 THEN
    RETURN;
  END IF;
  IF p_positions[1] <> next_pos OR p_positions[n] <> next_pos + n - 1 THEN
    RAISE EXCEPTION 'eventfold_write: positions % to % do not start at the next position %', p_positions[1], p_positions[n], next_pos;
  END IF;
  INSERT INTO eventfold_events (position, stream, version, type, id, timestamp_ms, data, metadata)
    SELECT * FROM unnest(p_positions, p_streams, p_versions, p_types, p_ids, p_timestamps, p_data, p_metadata);
  INSERT INTO eventfold_streams AS s (stream, version, first_position)
    SELECT w.stream, max(w.version), min(w.position)
    FROM unnest(p_streams, p_versions, p_positions) AS w(stream, version, position)
    GROUP BY w.stream
    ON CONFLICT (stream) DO UPDATE SET version = excluded.version;
  UPDATE eventfold_log SET next_position = next_pos + n WHERE singleton;
  PERFORM pg_notify('eventfold', (next_pos + n - 1)::text);
END
$fn$;
`;

/** The stored schema version, undefined when there is none yet. Runs inside a transaction: a savepoint keeps "no such table" from aborting it. */
async function storedVersion(client: ClientBase): Promise<number | undefined> {
  // Not to_regclass: it may answer from a catalog snapshot older than the lock just taken.
  await client.query('SAVEPOINT eventfold_probe');
  try {
    const { rows } = await client.query<{ version: number }>('SELECT version FROM eventfold_schema');
    await client.query('RELEASE SAVEPOINT eventfold_probe');
    return rows[0]?.version;
  } catch (error) {
    if ((error as { code?: string })?.code !== '42P01') throw error;
    await client.query('ROLLBACK TO SAVEPOINT eventfold_probe');
    return undefined;
  }
}

/** Refuses any schema version but SCHEMA_VERSION (a read-only open also takes versions 1 and 2, which it cannot migrate and reads alike): a newer eventfold's, or one no eventfold wrote (1 is the first) — nothing to migrate from. */
function refuseOther(version: number, location: string, readOnly: boolean): void {
  if (version === SCHEMA_VERSION || ((version === 1 || version === 2) && readOnly)) return;
  throw new UnsupportedFormatError(
    `${location} (table eventfold_schema)`,
    version,
    SCHEMA_VERSION,
    version > SCHEMA_VERSION
      ? 'A newer eventfold created this schema: open it with that version. Nothing was changed.'
      : `No eventfold writes a schema version below 1: these tables are not eventfold's as it expects them. Nothing was changed.`,
  );
}

/**
 * Makes sure the schema is there at SCHEMA_VERSION: creates it on an empty
 * database, refuses any other version. `readOnly` never creates anything.
 */
export async function migrate(client: ClientBase, location: string, readOnly: boolean): Promise<number> {
  await client.query('BEGIN');
  try {
    // The common case (already created) needs no lock.
    let version = await storedVersion(client);
    if (version === undefined && readOnly) throw new StoreNotFoundError(location, 'it has no eventfold_schema table; a read-only open creates nothing');
    if (version === undefined) {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      version = await storedVersion(client);
    }
    if ((version === 1 || version === 2) && !readOnly) {
      // Version 1 to 2 (payload statistics off), 2 to 3 (removals counted), under the lock, once.
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      version = await storedVersion(client);
      if (version === 1) {
        await client.query(PAYLOAD_STATISTICS_OFF);
        await client.query(PAYLOAD_STATISTICS_CLEARED);
        version = 2;
      }
      if (version === 2) {
        await migrateToRemovals(client);
        await client.query('UPDATE eventfold_schema SET version = $1', [SCHEMA_VERSION]);
        version = SCHEMA_VERSION;
      }
    }
    if (version === undefined) {
      await client.query(CREATE);
      await client.query(PAYLOAD_STATISTICS_OFF);
      await client.query('INSERT INTO eventfold_log (next_position) VALUES (0) ON CONFLICT DO NOTHING');
      await client.query('INSERT INTO eventfold_removals (deletions, rows_deleted) VALUES (0, 0) ON CONFLICT DO NOTHING');
      await client.query('INSERT INTO eventfold_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
    } else {
      refuseOther(version, location, readOnly);
    }
    await client.query('COMMIT');
    return version ?? SCHEMA_VERSION;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
