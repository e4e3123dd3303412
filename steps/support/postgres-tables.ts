// What the events table of a scenario's PostgreSQL database takes on the
// server: its size, and the bytes of its files.
import { database, queryDatabase } from './postgres';
import type { EventfoldWorld } from './world';

export interface TableSize {
  /** The table's own pages (pg_relation_size): where its rows are. */
  heap: number;
  /** With its TOAST table and indexes (pg_total_relation_size). */
  total: number;
}

export async function eventsTableSize(world: EventfoldWorld): Promise<TableSize> {
  const [row] = await queryDatabase<{ heap: string; total: string }>(
    database(world),
    `SELECT pg_relation_size('eventfold_events') AS heap, pg_total_relation_size('eventfold_events') AS total`,
  );
  return { heap: Number(row.heap), total: Number(row.total) };
}

/**
 * The relations — the events table, its TOAST table and every index of
 * both — whose files on the server hold `text`. Read with
 * pg_read_binary_file (a superuser's function, as the test cluster's user
 * is) after a CHECKPOINT, so every page is in the files, not only in the
 * server's memory. Every 1 GB segment file of a relation is read.
 */
export async function relationsHolding(world: EventfoldWorld, text: string): Promise<string[]> {
  const db = database(world);
  await queryDatabase(db, 'CHECKPOINT');
  const relations = await queryDatabase<{ name: string; path: string; bytes: string }>(
    db,
    `WITH t AS (SELECT oid, reltoastrelid FROM pg_class WHERE oid = 'eventfold_events'::regclass),
          rels AS (
            SELECT oid FROM t
            UNION ALL SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0
            UNION ALL SELECT indexrelid FROM pg_index, t WHERE indrelid IN (t.oid, t.reltoastrelid))
     SELECT c.relname AS name, pg_relation_filepath(c.oid) AS path, pg_relation_size(c.oid) AS bytes FROM rels JOIN pg_class c ON c.oid = rels.oid`,
  );
  const needle = Buffer.from(text);
  const holding: string[] = [];
  for (const relation of relations) {
    const segments = Math.max(1, Math.ceil(Number(relation.bytes) / 2 ** 30));
    for (let segment = 0; segment < segments; segment++) {
      const path = segment === 0 ? relation.path : `${relation.path}.${segment}`;
      const [{ bytes }] = await queryDatabase<{ bytes: Buffer }>(db, 'SELECT pg_read_binary_file($1) AS bytes', [path]);
      if (bytes.includes(needle)) holding.push(`${relation.name} (${path})`);
    }
  }
  return holding;
}
