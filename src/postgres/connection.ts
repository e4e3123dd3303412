/**
 * Connections to the server: which targets are PostgreSQL URLs, the
 * location shown in errors (without the password), and client settings that
 * read `bigint` columns as safe integers (positions and versions) instead of
 * strings.
 */
import pg from 'pg';
import { StorageError } from '../errors';

/** `EventStore.open` takes a PostgreSQL URL instead of a directory. */
export function isPostgresUrl(target: unknown): target is string {
  return typeof target === 'string' && /^postgres(ql)?:\/\//i.test(target);
}

/** The URL as shown in errors and reports: the password replaced by ***. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

const INT8 = 20;

function safeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new StorageError('PostgreSQL returned a position or version beyond 2^53 - 1', new RangeError(text));
  return value;
}

/** pg's type parsers, with bigint read as a checked safe integer. */
export const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? safeInteger : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Settings of every connection a store makes. */
export function clientConfig(url: string): pg.ClientConfig {
  return { connectionString: url, types: TYPES, application_name: 'eventfold' };
}

/**
 * A process frozen inside its append transaction (stopped, swapped out)
 * would hold the position counter, and with it every writer, for as long as
 * it stays frozen: the server ends such a session after this long idle in
 * its transaction (its append is then not written, and placed once more).
 */
export const IDLE_IN_APPEND_MS = 30_000;

/**
 * Run on the append connection once it is open (SET, not the URL's
 * `options`, which a URL of the user's own would replace): durability
 * 'flush' turns synchronous_commit off for the appends.
 */
export function appendSessionSettings(durability: 'fsync' | 'flush'): string {
  return `SET idle_in_transaction_session_timeout = ${IDLE_IN_APPEND_MS}${durability === 'flush' ? '; SET synchronous_commit = off' : ''}`;
}
