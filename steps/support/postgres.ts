// The PostgreSQL run of the features (cucumber profile `postgres`, world
// parameter `log: 'postgres'`): one throwaway cluster for the whole run
// (steps/setup/postgres-cluster.ts), or the server EVENTFOLD_POSTGRES_URL
// names; each scenario gets a database of its own, created before it and
// dropped after it, so scenarios are independent.
import { AfterAll, BeforeAll } from '@cucumber/cucumber';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startCluster, stopOnExit, type Cluster } from '../setup/postgres-cluster';

/** The server of this run: set by BeforeAll on the PostgreSQL run. */
let serverUrl: string | undefined;
let cluster: Cluster | undefined;

/** True on the PostgreSQL run (the profile's world parameter). */
export function onPostgres(parameters: { log?: unknown } | undefined): boolean {
  return parameters?.log === 'postgres';
}

/** The URL of `database` on the run's server. */
export function databaseUrl(database: string): string {
  if (!serverUrl) throw new Error('no PostgreSQL server: this step runs on the PostgreSQL run only (cucumber profile "postgres")');
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onServer<T>(action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh, empty database for one scenario. */
export async function createScenarioDatabase(): Promise<string> {
  const name = `scenario_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  return name;
}

/** Drops a scenario's database, ending whatever sessions are still connected to it. */
export async function dropScenarioDatabase(name: string): Promise<void> {
  await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Restarts the run's own cluster (a server named by EVENTFOLD_POSTGRES_URL is not this run's to restart). */
export function restartServer(): void {
  if (!cluster) throw new Error('this run uses a server of its own (EVENTFOLD_POSTGRES_URL): it cannot restart it');
  cluster.restart();
}

/** Runs one statement on a scenario's database and returns its rows. */
export async function queryDatabase<R extends pg.QueryResultRow>(database: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A subscription's checkpoint as the PostgreSQL log stores it (a row of eventfold_checkpoints), undefined if none. */
export async function checkpointRow(database: string, name: string): Promise<{ position: number } | undefined> {
  const rows = await queryDatabase<{ position: string }>(database, 'SELECT position FROM eventfold_checkpoints WHERE name = $1', [name]);
  return rows.length === 0 ? undefined : { position: Number(rows[0].position) };
}

BeforeAll(async function (this: { parameters: { log?: unknown } }) {
  if (!onPostgres(this.parameters)) return;
  if (process.env.EVENTFOLD_POSTGRES_URL) {
    serverUrl = process.env.EVENTFOLD_POSTGRES_URL;
    return;
  }
  cluster = await startCluster({ fsync: false });
  stopOnExit(cluster);
  serverUrl = cluster.url;
});

AfterAll(function () {
  cluster?.stop();
});

/** A scenario's world as these helpers see it (not the World class itself: world.ts imports this module). */
interface ScenarioDatabase {
  readonly database?: string;
}

/** The scenario's own database (the PostgreSQL run only). */
export function database(world: ScenarioDatabase): string {
  if (!world.database) throw new Error('this step runs on the PostgreSQL run only (cucumber profile "postgres")');
  return world.database;
}

/** Polls the server until `test` holds: the condition is the server's state, the step's timeout bounds the wait. */
export async function until(world: ScenarioDatabase, sql: string, values: unknown[], test: (rows: pg.QueryResultRow[]) => boolean): Promise<pg.QueryResultRow[]> {
  for (;;) {
    const rows = await queryDatabase(database(world), sql, values);
    if (test(rows)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
