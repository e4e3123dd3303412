/**
 * The options a PostgreSQL store takes: the same as a directory's where they
 * apply; those that only mean something for files are refused by name.
 */
import { InvalidInputError } from '../errors';
import { readOptions, STORE_OPTIONS } from '../validate/options';

/** Options of the file log that have no meaning on a server, and why. */
const FILE_ONLY: Record<string, string> = {
  segmentSize: 'there are no segment files',
  repair: 'the server keeps its own data consistent (there is no log file to cut)',
  fs: 'there is no file layer to replace',
  verifyOnOpen: 'there are no checksummed files to verify',
  onCorruption: 'there are no checksummed files to verify',
};

export interface PostgresSettings {
  /** 'fsync' (default): commit waits for the server's WAL flush; 'flush': synchronous_commit off. */
  durability: 'fsync' | 'flush';
  maxBatchEvents: number;
  maxBatchBytes: number;
  maxBatchDelayMs: number;
  maxQueueEvents: number;
  maxEventBytes: number;
  keepSnapshots: number;
  readOnly: boolean;
}

const DEFAULTS: PostgresSettings = {
  durability: 'fsync',
  maxBatchEvents: 10_000,
  maxBatchBytes: 16 * 1024 * 1024,
  maxBatchDelayMs: 0,
  maxQueueEvents: 500_000,
  maxEventBytes: 1024 * 1024,
  keepSnapshots: 2,
  readOnly: false,
};

/** Checks the options (the engine's own ones are checked by the engine) and returns the log's settings. */
export function readPostgresOptions(options: object | undefined): PostgresSettings {
  if (options !== null && typeof options === 'object') {
    for (const [key, why] of Object.entries(FILE_ONLY)) {
      if ((options as Record<string, unknown>)[key] !== undefined) {
        throw new InvalidInputError(`the option ${key} applies to a store in a directory only; a PostgreSQL store does not take it (${why})`);
      }
    }
  }
  const checked = readOptions<Partial<PostgresSettings>>(options, 'open options', STORE_OPTIONS) as Partial<PostgresSettings>;
  const settings = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof PostgresSettings>) {
    if (checked[key] !== undefined) (settings as Record<string, unknown>)[key] = checked[key];
  }
  return settings;
}
