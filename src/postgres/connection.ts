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

/** Settings of every connection a store makes (`synchronousCommit: false` for durability 'flush'). */
export function clientConfig(url: string, synchronousCommit: boolean): pg.ClientConfig {
  return {
    connectionString: url,
    types: TYPES,
    application_name: 'eventfold',
    ...(synchronousCommit ? {} : { options: '-c synchronous_commit=off' }),
  };
}
