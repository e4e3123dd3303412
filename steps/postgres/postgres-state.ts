import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../../src/index';
import type { ChildLines } from '../support/child-lines';
import { scenarioState } from '../support/scenario-state';

/** A session of the scenario's database holding the position counter's row in an open transaction. */
export interface Held {
  client: pg.Client;
  position: number;
}

/**
 * What the PostgreSQL steps hand each other across their files
 * (postgres.steps.ts, acknowledged.steps.ts, scavenge.steps.ts): the other
 * stores and sessions a scenario opens on its database, and what they saw.
 */
export const postgresStores = scenarioState(() => ({
  held: undefined as Held | undefined,
  /** Another instance on the same database. */
  second: undefined as EventStore | undefined,
  /** A store that reads what the others wrote (read-only, or the one a poll step opens). */
  reader: undefined as EventStore | undefined,
  /** A subscriber child process, and the positions it reported handled. */
  subscriber: undefined as { child: ChildLines; handled: number[] } | undefined,
  /** The whole log, read back once the processes are done. */
  log: undefined as RecordedEvent[] | undefined,
}));
