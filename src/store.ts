import type {
  AggregateStreamOptions,
  AnyEvent,
  AppendOptions,
  AppendResult,
  CheckedAppendOptions,
  CheckpointResult,
  EventHandler,
  EventInput,
  ProjectionState,
  ProjectionStates as ProjectionStateMap,
  ProjectionsFor,
  ProjectionsNeedTheirStates,
  NotInferredFrom,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
} from './api';
import { Engine, type EngineSettings, type FollowOptions } from './engine/engine';
import type { EventLog } from './engine/event-log';
import { ProjectionStates } from './engine/projections';
import type { Subscription, EventHandler as StoredEventHandler, SubscribeOptions } from './engine/subscriptions';
import { asStorageError, InvalidInputError, type CorruptionError } from './errors';
import type { ExpectedVersion } from './expected-version';
import { openFileLogBesideWriter } from './file-log/open-file-log';
import { isPostgresUrl, openPostgres } from './postgres/open-postgres';
import type { RetentionReport, StreamMetadata } from './lifecycle/stream-metadata';
import type { ScavengeOptions } from './lifecycle/scavenge';
import type { FileSystem } from './fs/file-system';
import { SimulatedDisk } from './fs/simulated-disk';
import type { BackupResult, RecoveryReport, ScavengeResult } from './log-reports';
import { IN_MEMORY_OPTIONS, readOptions, readStoreOptions } from './validate/options';

/** Options of `EventStore.open`; `E` is the application's event union, `P` its projections' states by name. */
export interface StoreOptions<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = ProjectionStateMap> {
  /**
   * 'fsync' (default): an append resolves after its batch is fdatasync'ed — it
   * survives a process crash and a power loss. 'flush': it resolves once the
   * batch is handed to the OS — it survives a process crash, not a power loss.
   */
  durability?: 'fsync' | 'flush';
  /** A segment rolls once it reaches this size (default 64 MiB). */
  segmentSize?: number;
  /** Most events in one group-commit batch (default 100,000). */
  maxBatchEvents?: number;
  /** Most bytes in one group-commit batch (default 16 MiB). */
  maxBatchBytes?: number;
  /** Longest a batch waits for company, from its first event (default 0: the end of the current tick). */
  maxBatchDelayMs?: number;
  /** Accepted but not yet durable events; past this `append` waits (default 500,000). */
  maxQueueEvents?: number;
  /** Largest encoded event (default 1 MiB, at most 16 MiB). */
  maxEventBytes?: number;
  /** 'truncate': cut a corrupt log at the first bad record, quarantining the rest. Default 'none': fail. */
  repair?: 'none' | 'truncate';
  /** The file layer (default: Node's fs). Pass a SimulatedDisk to inject faults. */
  fs?: FileSystem;
  /** Folds of every event, by name; read them with `store.state(name)`. */
  projections?: ProjectionsFor<P, E>;
  /** Take a snapshot each time this many events were appended since the last (default 1,000,000; 0: only on `checkpoint()`). */
  snapshotEvery?: number;
  /** Also take one each time this many bytes of log were written since the last (default 0: by events only). */
  snapshotEveryBytes?: number;
  /** Snapshots kept on disk; older ones are removed (default 2). */
  keepSnapshots?: number;
  /**
   * Open without the lock, alongside a writer or on a crashed store: nothing
   * is written, cut or removed. Reads see every complete, committed append
   * found when the log was read; `refresh()` or `follow()` see newer ones.
   * Writes reject with ReadOnlyStoreError.
   */
  readOnly?: boolean;
  /**
   * How much of the log `open` checks when it starts from a snapshot.
   * 'background' (default): the open reads only the log after the snapshot;
   * the segments the snapshot covers are then checked in the background (see
   * `store.health`, `store.verified()`, `onCorruption`). 'full': the open
   * checks them before it returns and fails with CorruptionError, as without
   * a snapshot. Without a usable snapshot every open reads the whole log.
   */
  verifyOnOpen?: 'background' | 'full';
  /** Called once if the background check finds corruption in the log a snapshot covers. */
  onCorruption?: (error: CorruptionError) => void;
}

/** What is known about the log's integrity since the open. */
export interface StoreHealth {
  /**
   * 'verified': every durable record was checked (CRC, position, version,
   * chain) by the open or by the background check. 'verifying': the
   * background check of the log a snapshot covers is running. 'damaged': it
   * found corruption (`problem`); the store refuses appends, as the open
   * would have failed. 'unverified': the check was stopped (by close()) or
   * could not read the disk.
   */
  log: 'verified' | 'verifying' | 'damaged' | 'unverified';
  problem: CorruptionError | null;
}


export type { BackupResult } from './log-reports';

export type { AppendOptions, AppendResult, CheckpointResult, ReadAllOptions, ReadStreamOptions } from './api';
export type { FollowOptions } from './engine/engine';

/**
 * An open store. `E` is the union of the application's event types (see
 * `AnyEvent`), `P` the states of the projections passed to `open`, by name;
 * both are inferred by `open` or given as its type arguments.
 *
 * A thin facade: the engine (src/engine/) does the work, on the log `open`
 * chose (src/file-log/ for a directory).
 */
export class EventStore<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = ProjectionStateMap> {
  private readonly log: EventLog;

  private constructor(private readonly engine: Engine) {
    this.log = engine.log;
  }

  /**
   * Opens (creating if needed) the store in `dir`, recovering from any crash;
   * or, given a `postgres:`/`postgresql:` URL, the store in that database
   * (see README "PostgreSQL").
   */
  static async open<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = {}>(
    dir: string,
    options?: StoreOptions<E, P> & NotInferredFrom<ProjectionsNeedTheirStates<P>>,
  ): Promise<EventStore<E, P>> {
    const { log, projections, settings } = await openLog(dir, options);
    const engine = new Engine(log, projections, settings);
    try {
      await engine.loadLifecycles();
    } catch (error) {
      await log.abandon();
      throw asStorageError(error, `Could not open the store in ${log.location}`);
    }
    return new EventStore<E, P>(engine);
  }

  /** A store that lives in memory only, with the same API and semantics (for tests). */
  static async inMemory<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = {}>(
    options?: Omit<StoreOptions<E, P>, 'fs'> & NotInferredFrom<ProjectionsNeedTheirStates<P>>,
  ): Promise<EventStore<E, P>> {
    const checked = readOptions<StoreOptions<E, P>>(options, 'inMemory options', IN_MEMORY_OPTIONS);
    return EventStore.open<E, P>('/eventfold', { ...checked, fs: new SimulatedDisk() } as StoreOptions<E, P> & ProjectionsNeedTheirStates<P>);
  }

  /** Where the store lives: its directory. */
  get directory(): string {
    return this.log.location;
  }

  /** What the last open found and did (read-only: what it found, and what a writer's open would cut). */
  get recovery(): RecoveryReport {
    return this.log.recovery;
  }

  /** Opened with `readOnly: true`: no lock, no writes. */
  get readOnly(): boolean {
    return this.log.readOnly;
  }

  /** The last automatic snapshot's failure, if the latest attempt failed (the log is unaffected). */
  get snapshotError(): Error | undefined {
    return this.engine.snapshotError;
  }

  /** What is known about the log's integrity: see StoreHealth. */
  get health(): StoreHealth {
    return { ...this.log.health } as StoreHealth;
  }

  /** Resolves when the background check of the log a snapshot covers is over (at once when there is none). */
  verified(): Promise<StoreHealth> {
    return this.log.verified().then((health) => ({ ...health }) as StoreHealth);
  }

  /** Global position of the last durable event, -1 when the store is empty. */
  get position(): number {
    return this.log.lastPosition;
  }

  /** True after a failed write or fsync: the store acknowledges nothing more until reopened. */
  get failed(): boolean {
    return this.log.failure !== undefined;
  }

  /** Events accepted but not yet durable (the writer's queue). */
  get pendingEvents(): number {
    return this.log.pendingEvents;
  }

  /**
   * Last durable version of a stream, -1 when it has no events. A soft-deleted
   * stream keeps its last version (its next append continues from it); a
   * stream deleted for good throws StreamDeletedError.
   */
  streamVersion(stream: string): number {
    return this.engine.streamVersion(stream);
  }

  /** Names of the streams whose events reads return: not the store's own, not deleted, not emptied by their retention. */
  streams(): string[] {
    return this.engine.streams();
  }

  /**
   * Sets a stream's metadata (it replaces the previous one): `maxCount`,
   * `maxAge` (milliseconds), `truncateBefore` — from then on reads no longer
   * return the events outside them (their bytes stay on disk until
   * `scavenge()`) — and `custom`, the application's own. The stream need not exist
   * yet. Stored durably in the log; resolves once durable.
   */
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    return this.engine.setStreamMetadata(stream, metadata);
  }

  /** A stream's metadata as last set (`{}` when never set); StreamDeletedError for a stream deleted for good. */
  getStreamMetadata(stream: string): StreamMetadata {
    return this.engine.getStreamMetadata(stream);
  }

  /**
   * Every stream that has metadata or was deleted: its settings, and how many
   * of its events (and log bytes) retention and deletion remove now — what a
   * scavenge would give back. Reads those streams' records.
   */
  retentionReport(): Promise<RetentionReport> {
    return this.engine.retentionReport();
  }

  /**
   * Takes the events that retention and deletion removed off the storage.
   * File log: rewrites the segments without them — the disk space comes back
   * and their bytes are gone from the store's files (snapshots are removed;
   * quarantined copies are zeroed); a power cut at any point leaves each
   * segment as it was or as rewritten; `onProgress` after each segment.
   * PostgreSQL: deletes their rows in short batches, then VACUUMs (the space
   * is reused by the table); `erase: true` rewrites the table with VACUUM
   * FULL so their bytes leave its files (appends and reads wait meanwhile);
   * `onProgress` after each batch. Every kept event stays exactly as it was;
   * positions are never reused; appends and reads go on meanwhile. See
   * src/lifecycle/scavenge.ts and src/postgres/SCHEMA.md ("Scavenge"). A
   * call while a scavenge runs gets the next one, started when it ends, so
   * it covers every change made before the call; `close()` stops a scavenge
   * early and its promise then rejects with StoreClosedError.
   */
  scavenge(options?: ScavengeOptions): Promise<ScavengeResult> {
    return this.engine.scavenge(options);
  }

  /**
   * Deletes a stream. Soft (default): it reads as empty, and a later append
   * continues its versions (the events before stay removed). `hard: true`:
   * for good — every later append or metadata change is refused with
   * StreamDeletedError and the name cannot be reused. `expectedVersion` is
   * checked as for `append`. The events' bytes stay on disk until
   * `scavenge()` removes them). Resolves once the deletion is durable.
   */
  deleteStream(stream: string, options?: { expectedVersion?: ExpectedVersion; hard?: boolean }): Promise<void> {
    return this.engine.deleteStream(stream, options);
  }

  /**
   * Appends events to a stream as one atomic batch. Resolves with the last
   * event's position and version once the batch is durable.
   */
  append<V extends ExpectedVersion = ExpectedVersion>(
    stream: string,
    events: EventInput<E>[],
    options?: AppendOptions<V> & NotInferredFrom<CheckedAppendOptions<V>>,
  ): Promise<AppendResult> {
    return this.engine.append(stream, events, options);
  }

  /** The durable state of a projection (frozen): includes every acknowledged append, nothing else. */
  state<K extends keyof P & string>(name: K): ProjectionState<P[K]> {
    return this.engine.state(name) as ProjectionState<P[K]>;
  }

  /**
   * Folds one stream on demand, up to version `to` (default: its last
   * version) — the stream's state as it was at that version.
   */
  aggregateStream<S>(stream: string, options: AggregateStreamOptions<S, E>): Promise<S> {
    return this.engine.aggregateStream(stream, options as AggregateStreamOptions<S>);
  }

  /**
   * Delivers every durable event in global order to `handler`: first from the
   * subscription's stored checkpoint, then live. At least once; never a gap.
   */
  subscribe(name: string, handler: EventHandler<E>, options?: SubscribeOptions): Promise<Subscription> {
    return this.engine.subscribe(name, handler as StoredEventHandler, options);
  }

  /** Events of one stream, by version. Every record's CRC is checked. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncGenerator<RecordedEvent<E>> {
    return this.engine.readStream(stream, options) as AsyncGenerator<RecordedEvent<E>>;
  }

  /** Every durable event in global order. Every record's CRC is checked. */
  readAll(options?: ReadAllOptions): AsyncGenerator<RecordedEvent<E>> {
    return this.engine.readAll(options) as AsyncGenerator<RecordedEvent<E>>;
  }

  /**
   * The events of `readAll`, a page (an array of at most 256, never empty) at
   * a time: what a replay or a catching-up reader wants, at one promise per
   * page rather than one per event. The same events and checks as `readAll`.
   */
  readAllPages(options?: ReadAllOptions): AsyncGenerator<RecordedEvent<E>[]> {
    return this.engine.readAllPages(options) as AsyncGenerator<RecordedEvent<E>[]>;
  }

  /**
   * Takes a snapshot of everything durable now: projection states, the
   * stream index and the log position. Appends keep flowing while it is
   * written. Resolves once the snapshot is durable; null for an empty store.
   */
  checkpoint(): Promise<CheckpointResult | null> {
    return this.engine.checkpoint();
  }

  /**
   * Read-only stores: takes in what a writer appended since the log was last
   * read — every complete, committed append, with the checks of recovery.
   * Resolves with the new last position. (A writable store is always current.)
   */
  refresh(): Promise<number> {
    return this.engine.refresh();
  }

  /**
   * Every durable event from `from` on in global order, then each new one as
   * it becomes durable — until the store closes or `signal` aborts. A
   * read-only store looks for a writer's new appends every `pollMs`.
   */
  follow(options?: FollowOptions): AsyncGenerator<RecordedEvent<E>> {
    return this.engine.follow(options) as AsyncGenerator<RecordedEvent<E>>;
  }

  /**
   * Copies the store, while it keeps working, into `dest` (which must not
   * exist): every event durable now, the newest snapshot up to there and the
   * subscription checkpoints, as a store that opens on its own. Works on
   * read-only stores too. See recovery/backup.ts for how it stays consistent.
   */
  async backup(dest: string): Promise<BackupResult> {
    if (!this.log.backup) throw new InvalidInputError(`a store on ${this.log.kind} has no backup of its own: use the server's`);
    return this.log.backup(dest);
  }

  /**
   * Waits for queued appends, syncs, leaves the clean-shutdown marker and releases the lock.
   * A second call returns the first call's promise: it resolves when the lock is released.
   */
  close(): Promise<void> {
    return this.engine.close();
  }
}

/**
 * The one place that picks the log from what `open` was given, with the
 * engine's share of the options. A directory: the file log (src/file-log/).
 * (`postgres:`/`postgresql:` URLs: the PostgreSQL log, checked here first.)
 */
async function openLog(target: string, options: unknown): Promise<{ log: EventLog; projections: ProjectionStates; settings: EngineSettings }> {
  if (isPostgresUrl(target)) return openPostgres(target, options);
  // Every argument is checked before anything touches the disk.
  const checked = readStoreOptions(target, options);
  const { log, replay: projections } = await openFileLogBesideWriter(checked, () => new ProjectionStates(checked.projections));
  return { log, projections, settings: checked.settings };
}
