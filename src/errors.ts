import type { ExpectedVersion } from './expected-version';

/**
 * Every failure a caller can meet has its own class, so applications can
 * branch on `instanceof` instead of parsing messages. All extend EventfoldError.
 */
export class EventfoldError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input to the API: nothing was written and the store is still healthy. */
export class InvalidInputError extends EventfoldError {}

export type { ExpectedVersion };

/** The stream was not at the version the caller expected; nothing was written. */
export class ExpectedVersionConflictError extends EventfoldError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** The stream's last version, or -1 when the stream has no events. */
    readonly actual: number,
  ) {
    super(
      `Stream "${stream}" expected version ${JSON.stringify(expected)} but its current version is ` +
        (actual < 0 ? 'none (the stream does not exist)' : String(actual)),
    );
  }
}

/** Another open store (in this process or another one) holds the directory's lock. */
export class StoreLockedError extends EventfoldError {
  constructor(
    readonly directory: string,
    /** The pid the owner wrote in its LOCK file, as its own process sees it; null when not written yet. */
    readonly ownerPid: number | null,
  ) {
    super(`Store directory ${directory} is in use: locked by ${ownerPid === null ? 'another process' : `process ${ownerPid}`}; close that store first, or open it with { readOnly: true }`);
  }
}

export interface CorruptionDetails {
  file: string;
  offset: number;
  reason: string;
  expectedCrc?: number;
  actualCrc?: number;
}

/** The data on disk is damaged in a way that is not a torn tail. Nothing was skipped silently. */
export class CorruptionError extends EventfoldError {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  readonly expectedCrc?: number;
  readonly actualCrc?: number;
  constructor(details: CorruptionDetails) {
    const crc =
      details.expectedCrc !== undefined
        ? ` (expected CRC ${hex(details.expectedCrc)}, actual CRC ${hex(details.actualCrc ?? 0)})`
        : '';
    super(`Corruption in ${details.file} at byte offset ${details.offset}: ${details.reason}${crc}`);
    this.file = details.file;
    this.offset = details.offset;
    this.reason = details.reason;
    this.expectedCrc = details.expectedCrc;
    this.actualCrc = details.actualCrc;
  }
}

/** A write or fsync failed: the store fail-stopped and acknowledges nothing until reopened. */
export class StoreFailedError extends EventfoldError {}

/**
 * The file system failed outside an append (ENOSPC, EIO, EACCES… while
 * opening, checkpointing, closing, reading or storing a subscription's
 * checkpoint). `cause` is the file system's own error, `code` its code.
 */
export class StorageError extends EventfoldError {
  readonly code: string | undefined;
  constructor(message: string, cause: unknown) {
    const code = (cause as { code?: unknown })?.code;
    super(`${message}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** Wraps anything that is not already an EventfoldError as a StorageError saying what was being done. */
export function asStorageError(error: unknown, doing: string): EventfoldError {
  return error instanceof EventfoldError ? error : new StorageError(doing, error);
}

/** The `evolve` given to `aggregateStream` threw (or immer refused what it did); `cause` is its error. */
export class AggregateStreamError extends EventfoldError {
  constructor(
    readonly stream: string,
    /** The version of the event being folded, null if it failed before the first. */
    readonly version: number | null,
    cause: unknown,
  ) {
    super(`aggregateStream("${stream}") failed${version === null ? '' : ` at version ${version}`}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The store was closed; open it again to use it. */
export class StoreClosedError extends EventfoldError {
  constructor(message = 'The store is closed') {
    super(message);
  }
}

/**
 * A projection's `evolve` threw for an append: the append was refused and
 * nothing written. Also what `state()` throws for a projection that stopped
 * (`what` says why: an event it refused, or a rebuild that did not finish).
 */
export class ProjectionError extends EventfoldError {
  constructor(
    readonly projection: string,
    cause: unknown,
    what = 'refused the append',
  ) {
    super(`Projection "${projection}" ${what}: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/**
 * A write (`append`, `setStreamMetadata`, `deleteStream`, `checkpoint`,
 * `scavenge`, `subscribe`) called from inside a projection's `evolve`:
 * refused, nothing written. `evolve` must be pure — it folds an event into a
 * state while the store is placing that event — so it cannot call the store.
 * React to events from a subscription's handler, or after `append` resolves.
 */
export class ReentrantCallError extends EventfoldError {
  constructor(readonly operation: string) {
    super(
      `store.${operation}() was called from inside a projection's evolve and was refused (nothing written): evolve must be pure and cannot call the store; ` +
        `react to events from a subscription's handler, or after the append's promise resolves`,
    );
  }
}

/** `store.state(name)` for a name that was not among the projections passed to `open`. */
export class UnknownProjectionError extends InvalidInputError {
  constructor(
    readonly projection: string,
    /** The projections the store was opened with. */
    readonly known: string[],
  ) {
    super(`No projection named ${JSON.stringify(projection)}; the store was opened with ${known.length === 0 ? 'none' : known.map((n) => JSON.stringify(n)).join(', ')}`);
  }
}

/** A write (append, checkpoint, subscribe) on a store opened with `readOnly: true`; nothing was written. */
export class ReadOnlyStoreError extends EventfoldError {
  constructor(readonly directory: string) {
    super(`The store at ${directory} was opened read-only: it cannot append, checkpoint or keep subscription checkpoints; open it without readOnly (as its only writer) for that`);
  }
}

/** A read-only open (or a command that only looks) of a directory that holds no eventfold store. */
export class StoreNotFoundError extends EventfoldError {
  constructor(
    /** The directory, or the database URL without its password. */
    readonly directory: string,
    missing = 'it has no log/ directory',
  ) {
    super(`${directory} is not an eventfold store (${missing})`);
  }
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * A subscription's stored checkpoint (`subscriptions/<name>.json`) is damaged:
 * nothing was delivered. Pass `from` to choose where to resume, or
 * `onDamagedCheckpoint: 'restart'` to deliver everything again from the start.
 */
export class SubscriptionCheckpointError extends EventfoldError {
  constructor(
    readonly subscription: string,
    /** The checkpoint file, relative to the store directory. */
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      `Subscription "${subscription}" cannot resume: its checkpoint ${file} is damaged (${reason}). ` +
        `Pass { from: <last handled position> } to resume from a position you choose, or { onDamagedCheckpoint: 'restart' } to deliver every event again from the beginning`,
    );
  }
}

/** A subscription of that name is already running on this store: stop it first (its checkpoint file is its own). */
export class SubscriptionActiveError extends EventfoldError {
  constructor(readonly subscription: string) {
    super(`Subscription "${subscription}" is already running on this store; stop it before subscribing again under that name`);
  }
}

/**
 * The store was written by an older eventfold whose on-disk format this
 * version does not read. Nothing was changed; the message says how to move on.
 */
export class UnsupportedFormatError extends EventfoldError {
  constructor(
    readonly file: string,
    readonly version: number,
    readonly supported: number,
    advice: string,
  ) {
    super(`${file} is in eventfold's on-disk format version ${version}; this eventfold reads version ${supported}. ${advice}`);
  }
}

/**
 * An append reuses event ids: the same id twice in one batch, or ids its
 * stream holds among the events it is compared with (see
 * lifecycle/idempotency.ts) without being a retry of the append that wrote
 * them (some ids are new, or in another order): nothing was written. A true
 * retry (the same ids, in the same order, one after another) is not an
 * error: it resolves with the first append's result.
 */
export class DuplicateEventIdError extends EventfoldError {
  constructor(
    readonly stream: string,
    /** The batch's ids that the stream already holds. */
    readonly ids: string[],
    /** 'the stream': the stream already holds them; 'the same batch': the batch itself repeats them. */
    readonly where: 'the stream' | 'the same batch' = 'the stream',
  ) {
    const listed = `event id${ids.length === 1 ? '' : 's'} ${ids.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`;
    super(
      where === 'the same batch'
        ? `An append to stream "${stream}" carries ${listed} more than once: every event needs its own id; nothing was written`
        : `Stream "${stream}" already holds ${listed}, ` +
            'but this append is not a retry of the one that wrote them (a retry carries the same ids, in the same order, and finds them among the stream\'s last events or right after its expected version): nothing was written',
    );
  }
}

/**
 * Stream names that start with `$` are the store's own (its system streams,
 * such as `$lifecycle`, which holds stream metadata and deletions): an
 * application cannot append to, read, delete or set metadata on them.
 */
export class ReservedStreamNameError extends InvalidInputError {
  constructor(readonly stream: string) {
    super(`Stream name ${JSON.stringify(stream)} starts with "$", which is reserved for the store's own streams; choose a name that does not`);
  }
}

/**
 * The store was written by an earlier version of eventfold, when stream
 * names starting with "$" were still the application's, and it holds such
 * streams. Those names now belong to the store (its stream "$lifecycle"
 * holds stream metadata and deletions), so their events could be misread:
 * the open is refused and nothing was changed. Also thrown when the store's
 * own stream holds an event that is not one of its lifecycle records (one an
 * earlier version wrote into a store the current one had already used).
 */
export class LegacyStreamNamesError extends EventfoldError {
  constructor(
    readonly directory: string,
    /** The streams whose names are now reserved (at most the first 20). */
    readonly streams: string[],
    detail?: string,
  ) {
    const listed = streams.map((name) => JSON.stringify(name)).join(', ');
    super(
      `The store in ${directory} ${detail ?? `was written by an earlier version of eventfold and holds stream${streams.length === 1 ? '' : 's'} ${listed}`}: ` +
        'stream names starting with "$" now belong to the store itself ("$lifecycle" holds stream metadata and deletions), so those events could be misread. ' +
        'Nothing was changed. To upgrade, copy the events into a new store with the earlier version (readAll, then append), giving those streams names that do not start with "$", and open the new store with this version.',
    );
  }
}

/**
 * The stream was deleted with `{ hard: true }`: it can never be appended to
 * again, nor its metadata set, and its name cannot be reused. Nothing was written.
 */
export class StreamDeletedError extends EventfoldError {
  constructor(readonly stream: string) {
    super(`Stream "${stream}" was deleted for good (hard delete): it cannot be written to again, and its name cannot be reused`);
  }
}

/**
 * An erasing scavenge on PostgreSQL could not erase: the removed events' rows
 * are deleted (and the snapshots), but other sessions of the database still
 * hold snapshots older than those deletions, so rewriting the table now would
 * copy the deleted rows into its new files (PostgreSQL keeps a row every
 * snapshot may still see). Nothing was rewritten; `blockers` names those
 * sessions. Run the erasing scavenge again once they have ended.
 */
export class ErasureIncompleteError extends EventfoldError {
  constructor(
    readonly location: string,
    readonly blockers: readonly string[],
    waitedMs: number,
  ) {
    super(
      `Erasure of ${location} is not complete: the removed events' rows are deleted, but ${blockers.length} session(s) of the database still hold a snapshot older than the deletions (${blockers.join('; ')}), and a rewrite now would copy those rows into the new table files. Waited ${Math.round(waitedMs)} ms; nothing was rewritten. Run scavenge({ erase: true }) again once they have ended.`,
    );
  }
}
