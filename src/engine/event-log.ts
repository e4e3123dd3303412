/**
 * The one interface between the engine and a log.
 *
 * The engine (src/engine/) does what is the same whatever stores the events:
 * input validation, projections and their states, subscriptions, when to take
 * a snapshot of state, `aggregateStream`. A log does what depends on where the
 * events live: it gives them global positions, checks expected versions
 * (on PostgreSQL that check must run inside the append's transaction, so it
 * belongs here and not in the engine), makes them durable, reads them back,
 * learns of events other processes appended, and stores the engine's own
 * durable things (snapshots of state, subscription checkpoints).
 *
 * Two logs implement it: the file log (src/file-log/: segments, group
 * commit, recovery, the stream index with byte offsets, read-only mode, the
 * lock, backup) and the PostgreSQL log (src/postgres/). Everything
 * log-specific stays behind this interface: the file log's stream index, its
 * log-end check and its segment bases travel inside the opaque `log` part of
 * a snapshot (`EngineSnapshot.log`), never through the engine.
 *
 * Positions: every log numbers events 0, 1, 2, … in the order readers see
 * them — dense (no gaps), strictly increasing, safe integers, and assigned so
 * that commit order = position order: once a reader saw position p, no event
 * can later appear below p. (On PostgreSQL: a serialised position counter
 * taken inside the append transaction.) Versions number a stream's events
 * 0, 1, 2, … the same way.
 *
 * Threading model: one engine drives one log in one process; every method may
 * be called while appends are in flight. "Known" means known to this process:
 * a shared log (PostgreSQL) learns of other processes' events through
 * `refresh`, `waitForEvents` and the reads, and reports them to the engine
 * through `LogListener.discovered`.
 */
import type { AppendResult, RecordedEvent } from '../api';
import { EventfoldError } from '../errors';
import type { ExpectedVersion } from '../expected-version';
import type { BackupResult, RecoveryReport, ScavengeProgress, ScavengeResult } from '../log-reports';
import type { EventInput as ValidEvent, RoomBefore } from '../validate/validate-input';

/** What `LogAppend.events` holds once the log let go of the events (they were taken in). */
export const RELEASED_EVENTS: readonly ValidEvent[] = Object.freeze([]);

/** One append to one stream, as the engine hands it to a log. */
export interface LogAppend {
  readonly stream: string;
  /**
   * At least one event, already validated (names, plain data, sizes): the
   * engine's own copy, which the log may keep and must not change. An event
   * without `id` gets a fresh random UUID from the log. Once the log has
   * taken them in (framed or sent) it may set this to RELEASED_EVENTS, so
   * that the copies of a large append are garbage at once rather than kept
   * alive until it is durable; nothing reads them after that.
   */
  events: readonly ValidEvent[];
  /** Checked by the log against the stream's version at the moment the append takes its place (see `EventLog.append`). */
  readonly expectedVersion: ExpectedVersion;
  /**
   * Optional: the stream whose version `expectedVersion` is checked against,
   * when it is not `stream` (the engine's `deleteStream` appends to its own
   * stream `$lifecycle` on condition of the deleted stream's version).
   */
  readonly expectedVersionOf?: string;
  /**
   * Optional: makes the events at the moment the append takes its place,
   * after the expected-version check, from the checked stream's version then
   * (`-1`: no events). They replace `events` (the same number of events:
   * `events` counts for back-pressure before). Synchronous; a throw refuses
   * this append with the thrown error. Used by the engine's own appends
   * (metadata, deletion), never by `store.append`.
   */
  readonly prepare?: (checkedVersion: number) => readonly ValidEvent[];
}

/**
 * What became of one append of a batch: its last event's position and
 * version, or the typed error that refused exactly this append and wrote
 * nothing of it (ExpectedVersionConflictError, InvalidInputError for an event
 * the log cannot store, ProjectionError thrown by `LogListener.accepting`).
 */
export type LogAppendOutcome = AppendResult | EventfoldError;

/** A batch of one's outcome as its promise settles: the result, or the error that refused it. */
export function firstOutcome(outcomes: LogAppendOutcome[]): AppendResult {
  const outcome = outcomes[0];
  if (outcome instanceof EventfoldError) throw outcome;
  return outcome;
}

/** A batch of one (`append([one])`'s promise) as EventLog.appendOne answers: its one outcome, `settled` called as it settles. */
export function asOneAppend(written: Promise<LogAppendOutcome[]>, settled: () => void): Promise<AppendResult> {
  const one = written.then(firstOutcome);
  one.then(settled, settled);
  return one;
}

/** Options of `EventLog.readStream`, already checked by the engine. */
export interface LogStreamRead {
  direction: 'forward' | 'backward';
  /** First version to read: default 0 forward, the last version backward. A backward `from` past the last version starts at the last. */
  from?: number;
  /** Most events in total (Infinity: all). Always >= 1: the engine answers `limit: 0` itself. */
  limit: number;
}

/** What a store's integrity check knows (see `StoreHealth` in src/store.ts). */
export interface LogHealth {
  log: 'verified' | 'verifying' | 'damaged' | 'unverified';
  problem: EventfoldError | null;
}

/** The projections' part of a snapshot: each projection's state with the projection version that folded it. */
export type ProjectionSnapshot = Record<string, { version: number; state: unknown }>;

/**
 * A snapshot of the engine at one position. The engine captures it
 * synchronously (projection states and `EventLog.captureSnapshot()` at the
 * same moment, so both describe exactly positions 0…position) and hands it to
 * `EventLog.writeSnapshot`.
 */
export interface EngineSnapshot {
  /** Last global position covered (>= 0). */
  position: number;
  projections: ProjectionSnapshot;
  /** What the log itself needs to resume after `position` (file log: its stream index, log end, segment bases). Opaque to the engine. */
  log: unknown;
  /** ISO time of the capture. */
  createdAt: string;
}

/**
 * A subscription's stored checkpoint: the last position its handler finished
 * (-1: none), or why it cannot be read and where it is (never guessed around).
 */
export type StoredCheckpoint = { position: number } | { damaged: string; where: string };

/**
 * What the engine gives a log to open it: how to use a snapshot's projection
 * states and how to fold the events the open reads. Called synchronously, in
 * global position order.
 */
export interface LogReplay {
  /**
   * True when the engine folds events (it has projections). When false the
   * log need not decode events for `replay` and `LogListener.accepting`
   * (it does not call `replay`, and passes `accepting` null).
   */
  readonly foldsEvents: boolean;

  /**
   * During open: the projection states of the snapshot the log chose. Returns
   * why they cannot be used (a projection is new or changed its version):
   * the log must then not use that snapshot at all, and replays everything.
   * Returns undefined after adopting them.
   */
  restoreSnapshot(projections: ProjectionSnapshot): string | undefined;

  /**
   * Durable events the log reads, in order, gapless: during open (after the
   * snapshot it used), and in a read-only file log's `refresh`. A throw
   * (ProjectionError) fails that open or refresh. Only when `foldsEvents`.
   */
  replay(events: readonly RecordedEvent[]): void;
  /** Ends a run of `replay` calls: the replayed states become what `state()` shows. */
  finishReplay(): void;
}

/**
 * The engine's side at run time, registered with `EventLog.listen` once the
 * log is open (before any append). The log calls it synchronously, never
 * concurrently, and in global position order: across `replay`, `appended`
 * and `discovered` together, each call's events follow the previous call's
 * last position without a gap.
 */
export interface LogListener extends LogReplay {
  /**
   * An append of this process is taking its place, after the expected-version
   * check passed (and `prepare` made its events) and before anything of it is
   * queued: the last moment to refuse it. `events` are its events exactly as
   * they will read back, with the positions and versions the log gives them
   * if it knows them now (the file log does; a log that assigns them at commit
   * passes its best guess), and only when `foldsEvents` (null otherwise).
   * A throw refuses exactly this append, with the thrown error as its
   * outcome; nothing of it is written. Called for every append, in the order
   * they take their places.
   *
   * `decodeAgain`: a log that holds the append's bytes until it is durable
   * (the file log) passes a way to decode the same events again. The engine
   * then lets go of `events` once folded and decodes them again only if it
   * must fold them a second time (an evolve refused a later append, or a
   * rebuild), so that a batch's events do not survive young-generation
   * collections while it is written and fsynced.
   */
  accepting(append: LogAppend, events: readonly RecordedEvent[] | null, decodeAgain?: () => readonly RecordedEvent[]): void;

  /**
   * Optional hint from a log that alone decides the order of appends (the
   * file log, as its group commit takes a batch): `last` and every append
   * accepted before it will be durable in accept order with nothing between
   * them, so the engine may settle their states now. A log that other
   * processes write to never calls it.
   */
  ordered?(last: LogAppend): void;

  /**
   * An append `accepting` took was not written after all (a shared log whose
   * commit failed, see src/postgres/): the engine forgets it. Called before
   * its `append` promise settles.
   */
  refused?(append: LogAppend): void;

  /**
   * Appends of this process became durable, in position order: `appends`
   * (the very objects passed to `append`, each whole) cover exactly the
   * positions after the previous notification up to `lastPosition`. Called
   * before their `append` promises resolve, so `state()` includes an append
   * when its promise resolves. `bytes`: log bytes they took (for
   * `snapshotEveryBytes`; 0 when the log does not count bytes). Must not throw.
   */
  appended(appends: readonly LogAppend[], lastPosition: number, bytes: number): void;

  /**
   * Durable events this process did not append (another process wrote them),
   * in position order, gapless after the previous notification (all of them,
   * whatever `foldsEvents`: the engine also learns stream metadata and
   * deletions from them), reported before the events of any later own append.
   * Must not throw.
   */
  discovered(events: readonly RecordedEvent[], lastPosition: number): void;

  /**
   * Optional: a scavenge of another process (of a shared log) removed stored
   * events, or may have: the projection states may hold what was folded from
   * them. The engine rebuilds them from the log (see
   * `EventLog.projectionsBasis`). Must not throw.
   */
  eventsRemoved?(): void;
}

/** A listener that does nothing: a log's until the engine listens (nothing is appended before). */
export const NO_LISTENER: LogListener = {
  foldsEvents: false,
  restoreSnapshot: () => undefined,
  replay: () => undefined,
  finishReplay: () => undefined,
  accepting: () => undefined,
  appended: () => undefined,
  discovered: () => undefined,
};

/**
 * A log of events. Every read method checks what it reads (the file log: each
 * record's CRC, position, version and stream link) and fails with
 * CorruptionError on damage; a failing disk or server surfaces as
 * StorageError. After `close` every method rejects or throws
 * StoreClosedError.
 */
export interface EventLog {
  /** Which log this is (shown in reports and errors). */
  readonly kind: 'file' | 'postgres';
  /** Where it lives: the store directory, or the database URL without its password. */
  readonly location: string;
  /** Opened read-only: `append`, `writeSnapshot` and `writeCheckpoint` reject with ReadOnlyStoreError. */
  readonly readOnly: boolean;
  /** What the open found and did. A log without crash recovery reports a clean, empty recovery. */
  readonly recovery: RecoveryReport;

  /** Registers the engine's run-time side (once, right after the open, before any append). */
  listen(listener: LogListener): void;

  /**
   * Optional: the bytes this log wants left free before each event's payload
   * when the engine encodes an append to `stream` (validateEvents): the file
   * log frames its records there, around the payload, instead of copying it.
   */
  recordRoom?(stream: string): RoomBefore;

  /**
   * Appends a batch: each element atomically (all of its events or none) and
   * in the order given, with its expected version checked against the
   * stream's version at the moment the append takes its place in the log —
   * including earlier appends of the same batch and every append accepted
   * before (in flight included), so two concurrent appends expecting the
   * same version cannot both succeed. Several appends may name the same
   * stream. A conflict (or another refusal, see LogAppendOutcome) rejects
   * only that element: its outcome is the error, nothing of it is written,
   * and the others go on. `expectedVersion: 'any'` never conflicts.
   *
   * Resolves, once every accepted element is durable, with one outcome per
   * element, in order; each accepted element's events get consecutive
   * positions and versions. The promise rejects as a whole only when the log
   * cannot acknowledge anything: it failed (StoreFailedError — a failed write
   * or fsync fail-stops the log; it is never retried), it is read-only, or it
   * was closed. Callers must not assume any part of a rejected batch is
   * absent: after a failure only a reopen tells.
   *
   * May wait before it accepts (back-pressure: the file log's maxQueueEvents).
   * The file log group-commits across calls: appends of many calls share one
   * write and one fdatasync. Hot path: no promise or closure per event.
   */
  append(batch: readonly LogAppend[]): Promise<LogAppendOutcome[]>;

  /**
   * One append on its own, as `append([one])` with its one outcome: resolves
   * with its result, or rejects with what refused it or why the log cannot
   * acknowledge it. `settled` is called exactly once, when the promise
   * settles and before anything waiting on it runs (the engine's StreamLanes
   * count the appends in flight per stream this way, without a promise of
   * their own). Optional: the engine calls `append` for a log without it.
   * For the usual single-event append: no batch arrays, one promise.
   */
  appendOne?(append: LogAppend, settled: () => void): Promise<AppendResult>;

  /**
   * The events of one stream by version, in pages (each page non-empty, in
   * the order asked; together at most `limit` events). Reads what is durable
   * and known when each page is read; nothing for a stream without events.
   */
  readStream(stream: string, options: LogStreamRead): AsyncIterable<readonly RecordedEvent[]>;

  /**
   * Every durable event from position `from` on, in global order, in pages
   * (each non-empty, consecutive positions, together at most `limit` events;
   * Infinity: all). Ends at the durable end as it is when reached. A shared
   * log also returns events other processes committed (and reports them
   * through `discovered` if the engine has not seen them). Never skips: a
   * position below the end it reached is never filled in later.
   */
  readAll(from: number, limit: number): AsyncIterable<readonly RecordedEvent[]>;

  /** Last durable position known to this process (-1: none). Synchronous, never ahead of what reads return. */
  readonly lastPosition: number;

  /**
   * Asks the storage for the durable end now: takes in every complete,
   * committed append of other writers (a read-only file store: a writer
   * process's; PostgreSQL: every other process's), reports them through
   * `discovered`, wakes `waitForEvents`, and resolves with the new
   * `lastPosition`. The file log's writer is always current and answers at once.
   */
  refresh(): Promise<number>;

  /**
   * Resolves once `lastPosition > after`, or the log closes, or `signal`
   * aborts — whichever comes first; callers re-check (it may also resolve
   * early). A shared log learns of other processes' appends by itself here
   * (notifications, polling as a fallback); a read-only file log does not:
   * its engine calls `refresh`.
   */
  waitForEvents(after: number, signal?: AbortSignal): Promise<void>;

  /**
   * The stream's last durable version as known to this process (-1: no
   * events), synchronously (the file log: its index; a shared log: what it
   * has seen, including every event up to `lastPosition`).
   */
  streamVersion(stream: string): number;

  /** Names of the streams that have durable events, as known to this process. */
  streams(): string[];

  /** Events accepted by `append` but not yet durable. */
  readonly pendingEvents: number;
  /** Set once the log fail-stopped (StoreFailedError): it acknowledges nothing more until reopened. */
  readonly failure: EventfoldError | undefined;
  /**
   * What is known about the integrity of the stored events (the file log
   * checks the log a snapshot covers in the background). `append` waits
   * while it is 'verifying' and rejects with `problem` once 'damaged'.
   */
  readonly health: LogHealth;
  /** Resolves when the integrity check is over (at once when there is none). */
  verified(): Promise<LogHealth>;

  /**
   * The log's part of a snapshot of everything durable now (`lastPosition`),
   * captured synchronously so the engine can pair it with its states.
   */
  captureSnapshot(): { position: number; log: unknown };
  /**
   * Stores a snapshot durably (file log: a snapshot file, written atomically,
   * older ones pruned to keepSnapshots; it first makes sure the covered
   * events are durable, whatever the durability mode). Resolves with where
   * it went (file log: its path relative to the store directory). A snapshot
   * must never describe events a later open does not find: the log checks
   * that on open and ignores such a snapshot. Called one at a time.
   */
  writeSnapshot(snapshot: EngineSnapshot): Promise<string>;

  /** A subscription's stored checkpoint, null when it has none. */
  readCheckpoint(name: string): Promise<StoredCheckpoint | null>;
  /** Stores a subscription's checkpoint durably (file log: atomically; PostgreSQL: one row). */
  writeCheckpoint(name: string, position: number): Promise<void>;

  /**
   * Optional: copies the store, while it keeps working, into `dest` as a
   * store that opens on its own (the file log). Logs without it make
   * `store.backup` reject with InvalidInputError (use the server's own backup).
   */
  backup?(dest: string): Promise<BackupResult>;

  /**
   * Optional (the file log): how many of `stream`'s stored events `removed`
   * says are gone, and the storage bytes they take (`eventfold info`'s
   * reclaimable bytes). A log without it: the engine counts events only.
   */
  measureRemoved?(stream: string, removed: (version: number, timestamp: number) => boolean): Promise<{ events: number; bytes: number }>;

  /**
   * Optional (both logs have it): takes the events `removed` says are gone
   * off the storage for good, keeping every other event exactly as it was
   * (src/lifecycle/scavenge.ts, src/postgres/scavenge.ts). `sealForScavenge`
   * is called first, then the engine appends its own record of the scavenge,
   * so that every event before it can be scavenged. `scope` names the
   * streams that can lose events (those with retention settings or a
   * deletion), the position of the scavenge's own record (only events below
   * it may be removed), and whether the storage must be rewritten so the
   * removed bytes leave its files (the file log goes by its sealed segments
   * instead and always rewrites the ones that lose events), and `removed`
   * as of any clock's now (PostgreSQL judges `maxAge` by the server's).
   * `scope.redact` names the store's own records that a scavenge rewrites
   * (with the type and data it returns) because they hold what is no longer
   * read: superseded `$metadata` records and those of a stream deleted for
   * good (both logs do; PostgreSQL updates those rows in place). Logs
   * without it make `store.scavenge` reject with InvalidInputError.
   */
  scavenge?(
    removed: (stream: string, version: number, timestamp: number) => boolean,
    onProgress?: (progress: ScavengeProgress) => void,
    scope?: {
      streams: readonly string[];
      erase: boolean;
      below: number;
      redact?: (event: RecordedEvent) => { type: string; data: unknown } | null;
      /** `removed` as of another clock's `now` (ms since the epoch): a log shared by several machines judges age by one clock they share. */
      removedAt?: (now: number) => (stream: string, version: number, timestamp: number) => boolean;
      /** Changes whenever a lifecycle change is applied: what was judged under another value is judged again before it is removed. */
      retentionVersion?: () => number;
      /** True when the lifecycle of `stream` changed after `retentionVersion()` said `version`. */
      retentionChangedSince?: (stream: string, version: number) => boolean;
    },
  ): Promise<ScavengeResult>;
  sealForScavenge?(): void;

  /**
   * Optional (a shared log whose scavenges run in other processes too:
   * PostgreSQL): read before a rebuild of the projections reads the log.
   * `current`: no event was removed since the states were folded (the open,
   * or the last rebuild adopted), so a rebuild changes nothing. `adopt()`,
   * called at the moment the rebuilt states are adopted, makes that read the
   * states' basis: snapshots captured after carry it (see OutdatedStatesError).
   */
  projectionsBasis?(): Promise<{ current: boolean; adopt(): void }>;

  /**
   * Refuses new appends at once (StoreClosedError, also for appends still
   * waiting for room), waits for every accepted append to settle, then for
   * `finishing` (the engine's last writes through this log: the snapshot in
   * flight, the subscriptions' final checkpoints), makes everything durable,
   * records a clean shutdown when it is one (not after a failure or damage),
   * and releases the log (file log: the lock). Rejects with a typed error
   * when the close could not finish cleanly; the log is released all the
   * same (the next open recovers). Reads fail with StoreClosedError after.
   */
  close(finishing?: Promise<unknown>): Promise<void>;

  /**
   * Releases the log without recording a clean shutdown and without waiting
   * for anything: for an open that failed after the log opened (the engine's
   * own loading). Never rejects.
   */
  abandon(): Promise<void>;
}

/**
 * Thrown by `EventLog.writeSnapshot` of a shared log that stored nothing
 * because events were removed from the storage (by a scavenge, in any
 * process) after the snapshot's states were folded: they may hold what was
 * folded from them. Not an error of the store: the engine rebuilds its
 * projections, and `checkpoint()` then takes a snapshot of the rebuilt ones.
 */
export class OutdatedStatesError extends Error {
  constructor(location: string) {
    super(`no snapshot was stored in ${location}: a scavenge removed events after its projection states were folded`);
    this.name = 'OutdatedStatesError';
  }
}

/**
 * How a log is opened. `openLog` in src/store.ts is the one place that picks
 * the log from what `EventStore.open` was given (a directory: the file log,
 * `openFileLog(checked, replay)`; a `postgres:`/`postgresql:` URL: the
 * PostgreSQL log). It checks every option before any storage is touched —
 * the engine's share (projections, snapshotEvery, snapshotEveryBytes,
 * maxEventBytes) and the log's; an option that does not apply to that log is
 * refused with InvalidInputError — and hands the log the engine's
 * projections as `replay`. `A`: the log's checked arguments.
 */
export type OpenEventLog<A> = (args: A, replay: LogReplay) => Promise<EventLog>;
