import * as nodePath from 'node:path';
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
import { AggregateStreamError, asStorageError, CorruptionError, ExpectedVersionConflictError, InvalidInputError, ReadOnlyStoreError, StoreClosedError, StoreNotFoundError, StreamDeletedError, SubscriptionActiveError } from './errors';
import { matchesExpectedVersion, type ExpectedVersion } from './expected-version';
import type { FileSystem } from './fs/file-system';
import { NodeFileSystem } from './fs/node-file-system';
import { readOnlyFileSystem, refusingHandle } from './fs/read-only-file-system';
import { SimulatedDisk } from './fs/simulated-disk';
import { LogReader } from './log/log-reader';
import { decodeAppend, frameAppend, sealAppend, type EventToFrame } from './log/record';
import { SegmentedLog } from './log/segmented-log';
import { backupStore, type BackupResult } from './recovery/backup';
import { acquireLock, type HeldLock } from './recovery/lock';
import { readNewAppends } from './recovery/read-ahead';
import type { RecoveryReport } from './recovery/report';
import { finishInterruptedRepair, refuseUnfinishedRepair } from './recovery/quarantine';
import { scanLog } from './recovery/scan-log';
import { verifyCoveredLog, type CoveredLog } from './recovery/verify-covered';
import { readCleanMarker, writeCleanMarker } from './recovery/clean-marker';
import { CLEAN_MARKER, logDirOf } from './store-layout';
import type { SnapshotContents } from './snapshot/snapshot-file';
import { recordFingerprint } from './snapshot/log-end';
import { loadNewestSnapshot, quarantineSnapshotsBeyond, recordLastRecord, writeSnapshot } from './snapshot/snapshots';
import { listCheckpoints, resetCheckpointsBeyond } from './state/checkpoint-file';
import { ProjectionStates } from './state/projections';
import { StreamIndex, type EventPlace } from './state/stream-index';
import { Subscription, type EventHandler as StoredEventHandler, type SubscribeOptions } from './state/subscriptions';
import { produce, type Draft } from 'immer';
import { syncStoreDirectories } from './recovery/sync-store-directories';
import { cutRejectedWrites } from './log/rejected-writes';
import { prepareDirectory } from './validate/store-directory';
import { AGGREGATE_OPTIONS, DELETE_OPTIONS, FOLLOW_OPTIONS, IN_MEMORY_OPTIONS, READ_ALL_OPTIONS, READ_STREAM_OPTIONS, readAppendOptions, readOptions, readStoreOptions, SUBSCRIBE_OPTIONS } from './validate/options';
import { assertPlainData, formatValueForMessage, validateEvents, validateExpectedVersion, validateName, type EventInput as ValidEvent } from './validate/validate-input';
import { GroupCommitWriter, type QueuedAppend } from './writer/group-commit-writer';
import { matchRetry, placeToExamine, type StoredId } from './lifecycle/idempotency';
import { changeAsEvent, isSystemStream, keeps, KEEP_EVERYTHING, StreamLifecycles, SYSTEM_STREAM, validateMetadata, validateStreamName, type LifecycleChange, type Retention, type StreamMetadata } from './lifecycle/stream-metadata';

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

/** Options of `store.follow()`. */
export interface FollowOptions {
  /** First global position (default 0). */
  from?: number;
  /** A read-only store looks for new appends this often, in milliseconds (default 100). */
  pollMs?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

export type { BackupResult } from './recovery/backup';

export type { AppendOptions, AppendResult, CheckpointResult, ReadAllOptions, ReadStreamOptions } from './api';

const LOCK_CHECK_MS = 1000;

/**
 * An open store. `E` is the union of the application's event types (see
 * `AnyEvent`), `P` the states of the projections passed to `open`, by name;
 * both are inferred by `open` or given as its type arguments.
 */
export class EventStore<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = ProjectionStateMap> {
  private closing = false;
  private closed = false;
  private nextPosition: number;
  private readonly reader: LogReader;
  /** Live subscriptions by name; null while one is starting (its name is already taken). */
  private readonly subscriptions = new Map<string, Subscription | null>();
  private healthNow: StoreHealth = { log: 'verified', problem: null };
  private verification: Promise<StoreHealth> = Promise.resolve(this.healthNow);
  private newEventWaiters: Array<() => void> = [];
  /** The last snapshot write started (each waits for the one before it). */
  private snapshotInFlight: Promise<CheckpointResult> | undefined;
  /** A captured snapshot whose write waits for the one in flight. */
  private snapshotWaiting: { contents: SnapshotContents; written: Promise<CheckpointResult> } | undefined;
  private refreshing: Promise<void> | undefined;
  /** Checks every LOCK_CHECK_MS that the lock file was not removed or replaced (see recovery/lock.ts). */
  private lockWatch: NodeJS.Timeout | undefined;
  /** Set once another process holds the store's lock: every later batch fails, so the store fail-stops. */
  private lockLost: Error | undefined;
  private lastSnapshotPosition: number;
  /** The last durable record, as a snapshot records it (unknown until the first batch after the open). */
  private lastRecord: SnapshotContents['lastRecord'];
  private logBytesSinceSnapshot = 0;
  /** The last automatic snapshot's failure, if the latest attempt failed (the log is unaffected). */
  snapshotError: Error | undefined;

  private constructor(
    readonly directory: string,
    private readonly fs: FileSystem,
    private readonly log: SegmentedLog,
    private readonly index: StreamIndex,
    private readonly writer: GroupCommitWriter,
    private readonly lock: HeldLock,
    private readonly projections: ProjectionStates,
    private readonly options: Required<Omit<StoreOptions, 'fs' | 'repair' | 'projections' | 'readOnly' | 'verifyOnOpen' | 'onCorruption'>>,
    /** What the last open found and did (read-only: what it found, and what a writer's open would cut). */
    readonly recovery: RecoveryReport,
    /** Opened with `readOnly: true`: no lock, no writes. */
    readonly readOnly: boolean,
    /** The file layer without the read-only guard (where backups are written). */
    private readonly baseFs: FileSystem,
  ) {
    this.nextPosition = index.durableCount;
    this.lastSnapshotPosition = recovery.snapshot.position ?? -1;
    this.reader = new LogReader(log, index, () => this.assertReadable());
    if (!readOnly) this.lockWatch = setInterval(() => void this.checkLock(), LOCK_CHECK_MS).unref();
  }

  private checkingLock = false;
  private async checkLock(): Promise<void> {
    if (this.checkingLock || this.lockLost) return;
    this.checkingLock = true;
    try {
      if ((await this.lock.verify()) === 'lost') {
        this.lockLost = new Error(`the LOCK file of ${this.directory} was removed or replaced, and another process has locked the new one: it owns the store now`);
      }
    } catch {
      // Cannot tell now (the disk is failing?): the next check asks again.
    } finally {
      this.checkingLock = false;
    }
  }

  /** Opens (creating if needed) the store in `dir`, recovering from any crash. */
  static async open<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = {}>(
    dir: string,
    options?: StoreOptions<E, P> & NotInferredFrom<ProjectionsNeedTheirStates<P>>,
  ): Promise<EventStore<E, P>> {
    const started = performance.now();
    // Every argument is checked before anything touches the disk.
    const checked = readStoreOptions(dir, options);
    const { directory, settings, readOnly } = checked;
    const baseFs = checked.fs;
    const fs = readOnly ? readOnlyFileSystem(baseFs) : baseFs;
    let lock: HeldLock;
    if (readOnly) {
      if (checked.repair === 'truncate') throw new InvalidInputError("a read-only store cannot repair: open it without readOnly to use repair: 'truncate'");
      if (!(await fs.exists(logDirOf(directory)))) throw new StoreNotFoundError(directory);
      lock = { previousOwner: null, verify: async () => 'held' as const, release: async () => undefined };
    } else {
      await prepareDirectory(fs, directory);
      try {
        lock = await acquireLock(fs, directory);
      } catch (error) {
        throw asStorageError(error, `Could not lock the store in ${directory}`);
      }
    }
    try {
      // Whatever an earlier process or failed open left unsynced is made durable before this open builds on it.
      if (!readOnly) await syncStoreDirectories(fs, directory);
      // Writes this process rejected but could not cut back are cut before the log is read.
      const rejectedWrites = readOnly ? [] : await cutRejectedWrites(fs, logDirOf(directory));
      const clean = await readCleanMarker(fs, directory);
      const cleanShutdown = clean.marker !== undefined;
      const index = new StreamIndex();
      const projections = new ProjectionStates(checked.projections);
      const repairing = checked.repair === 'truncate';
      const verifyOnOpen = checked.verifyOnOpen;
      // Before anything else: a repair a crash interrupted is finished exactly as it was planned (a read-only open refuses to read around one).
      const finishedRepair = readOnly ? await refuseUnfinishedRepair(fs, directory) : await finishInterruptedRepair(fs, directory, repairing);
      const snapshots = await loadNewestSnapshot(fs, directory, { readOnly, checkLogEnd: !repairing });
      const snapshot: RecoveryReport['snapshot'] = { used: null, position: null, skipped: snapshots.skipped, fullReplayReason: null };
      let resumeAt;
      let covered: CoveredLog | undefined;
      if (snapshots.chosen && repairing) {
        snapshot.fullReplayReason = 'repair reads the whole log';
      } else if (snapshots.chosen) {
        const { file, contents } = snapshots.chosen;
        const mismatch = projections.mismatch(contents.projections);
        if (mismatch) {
          snapshot.fullReplayReason = `${mismatch}: every projection is rebuilt from the log`;
        } else {
          seedIndex(index, contents);
          projections.restore(contents.projections);
          snapshot.used = file;
          snapshot.position = contents.position;
          resumeAt = { snapshot: file, position: contents.position, ...contents.logEnd, segmentBases: contents.segmentBases };
          covered = { snapshot: file, position: contents.position, ...contents.logEnd };
        }
      } else if (snapshots.skipped.length > 0) {
        snapshot.fullReplayReason = 'no snapshot passed its checks';
      }
      const scan = await scanLog(fs, directory, index, {
        repair: checked.repair,
        readOnly,
        onCommit: projections.names.length > 0 ? (events) => projections.replay(withoutSystemEvents(events)) : undefined,
        resumeAt,
        // A repair that a crash interrupted (finished just now) cut the log on purpose: it ends at the repair's last position, not the marker's.
        cleanPosition: clean.marker && finishedRepair ? finishedRepair.lastPosition : clean.marker?.position,
      });
      projections.finishReplay();
      if (covered && verifyOnOpen === 'full') {
        const problem = await verifyCoveredLog(fs, directory, covered);
        if (problem) throw problem;
        covered = undefined;
      }
      const quarantine = scan.quarantine ?? finishedRepair;
      for (const moved of quarantine?.snapshotsSetAside ?? []) {
        snapshot.skipped.push({ file: moved.file, reason: `covers position ${moved.position}, past the repaired log's end at ${quarantine!.lastPosition}: moved to ${moved.movedTo}` });
      }
      if (repairing) {
        // Whatever a repair found, no snapshot past the repaired end may survive it (a damaged repair record is redone this way).
        snapshot.skipped.push(...(await quarantineSnapshotsBeyond(fs, directory, index.durableCount - 1)));
      }
      const checkpoints: RecoveryReport['checkpoints'] = {
        reset: await resetCheckpointsBeyond(fs, directory, index.durableCount - 1, readOnly),
        damaged: (await listCheckpoints(fs, directory)).flatMap((c) => ('damaged' in c ? [{ name: c.name, reason: c.damaged }] : [])),
      };
      if (clean.present && !readOnly) {
        // From here on a crash must not look like a clean shutdown.
        await fs.unlink(`${directory}/${CLEAN_MARKER}`);
        await fs.syncDir(directory);
      }
      const log = readOnly
        ? new SegmentedLog(fs, logDirOf(directory), scan.segments, refusingHandle('a read-only store has no writer'), settings.segmentSize)
        : await SegmentedLog.openExisting(fs, logDirOf(directory), scan.segments, settings.segmentSize);
      const recovery: RecoveryReport = {
        cleanShutdown,
        staleLockOwner: lock.previousOwner?.pid ?? null,
        segmentsScanned: scan.segmentsScanned,
        eventsRecovered: index.durableCount,
        lastPosition: index.durableCount - 1,
        tornTail: scan.tornTail,
        rejectedWrites,
        quarantine,
        checkpoints,
        removedFiles: [...snapshots.removedFiles, ...scan.removedFiles],
        snapshot,
        eventsReplayed: index.durableCount - (snapshot.position ?? -1) - 1,
        coveredLog: covered ? 'checked in the background' : snapshot.used ? 'checked by this open' : null,
        durationMs: 0,
      };
      let store: EventStore<E, P> | undefined;
      const writer = new GroupCommitWriter(
        log,
        settings,
        (batch, offset) => store!.seal(batch, offset),
        (batch, offset) => store!.publish(batch, offset),
      );
      store = new EventStore<E, P>(directory, fs, log, index, writer, lock, projections, settings, recovery, readOnly, baseFs);
      await store.loadLifecycles();
      recovery.durationMs = performance.now() - started;
      if (covered) store.verifyInBackground(covered, checked.onCorruption);
      return store;
    } catch (error) {
      await lock.release({ clean: false }).catch(() => undefined);
      throw asStorageError(error, `Could not open the store in ${directory}`);
    }
  }

  /** A store that lives in memory only, with the same API and semantics (for tests). */
  static async inMemory<E extends AnyEvent = AnyEvent, P extends ProjectionStateMap = {}>(
    options?: Omit<StoreOptions<E, P>, 'fs'> & NotInferredFrom<ProjectionsNeedTheirStates<P>>,
  ): Promise<EventStore<E, P>> {
    const checked = readOptions<StoreOptions<E, P>>(options, 'inMemory options', IN_MEMORY_OPTIONS);
    return EventStore.open<E, P>('/eventfold', { ...checked, fs: new SimulatedDisk() } as StoreOptions<E, P> & ProjectionsNeedTheirStates<P>);
  }

  /** What is known about the log's integrity: see StoreHealth. */
  get health(): StoreHealth {
    return { ...this.healthNow };
  }

  /** Resolves when the background check of the log a snapshot covers is over (at once when there is none). */
  verified(): Promise<StoreHealth> {
    return this.verification;
  }

  /** Starts the check of the segments the open skipped thanks to a snapshot. */
  private verifyInBackground(covered: CoveredLog, onCorruption: StoreOptions['onCorruption']): void {
    this.healthNow = { log: 'verifying', problem: null };
    this.verification = verifyCoveredLog(this.fs, this.directory, covered, () => this.closing).then(
      (problem) => {
        this.healthNow = problem ? { log: 'damaged', problem } : { log: 'verified', problem: null };
        if (problem) onCorruption?.(problem);
        return this.health;
      },
      () => {
        this.healthNow = { log: 'unverified', problem: null };
        return this.health;
      },
    );
  }

  /** Global position of the last durable event, -1 when the store is empty. */
  get position(): number {
    return this.index.durableCount - 1;
  }

  /** True after a failed write or fsync: the store acknowledges nothing more until reopened. */
  get failed(): boolean {
    return this.writer.failure !== undefined;
  }

  /** Events accepted but not yet durable (the writer's queue). */
  get pendingEvents(): number {
    return this.writer.backlog;
  }

  /** Last durable version of a stream, -1 when it has no events. */
  streamVersion(stream: string): number {
    validateStreamName(stream);
    return this.index.streams.get(stream)?.version ?? -1;
  }

  /** Names of the streams that have durable events. */
  streams(): string[] {
    const now = Date.now();
    return [...this.index.streams]
      .filter(([name, entry]) => entry.version >= 0 && !isSystemStream(name) && entry.version >= this.retentionOf(name, now).fromVersion && !this.retentionOf(name, now).hidden)
      .map(([name]) => name);
  }

  /** Which events of a stream reads return now (see lifecycle/stream-metadata.ts). */
  private retentionOf(stream: string, now: number): Retention {
    return this.lifecycles.retention(stream, this.index.streams.get(stream)?.version ?? -1, now);
  }

  /**
   * Sets a stream's metadata (it replaces the previous one): `maxCount`,
   * `maxAge` (milliseconds), `truncateBefore` — from then on reads no longer
   * return the events outside them, and a scavenge removes them from the
   * disk — and `custom`, the application's own. The stream need not exist
   * yet. Stored durably in the log; resolves once durable.
   */
  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.assertWritable();
    validateStreamName(stream);
    const checked = validateMetadata(metadata, this.options.maxEventBytes);
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    await this.enqueueAppend(SYSTEM_STREAM, () => {
      if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
      return { stream, metadata: checked };
    }, 'any');
  }

  /** A stream's metadata as last set (`{}` when never set); StreamDeletedError for a stream deleted for good. */
  getStreamMetadata(stream: string): StreamMetadata {
    validateStreamName(stream);
    this.assertReadable();
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    return structuredClone(this.lifecycles.metadata(stream));
  }

  /**
   * Deletes a stream. Soft (default): it reads as empty, and a later append
   * continues its versions (the events before stay removed). `hard: true`:
   * for good — every later append or metadata change is refused with
   * StreamDeletedError and the name cannot be reused. `expectedVersion` is
   * checked as for `append`. The events are removed from the disk by the
   * next scavenge. Resolves once the deletion is durable.
   */
  async deleteStream(stream: string, options?: { expectedVersion?: ExpectedVersion; hard?: boolean }): Promise<void> {
    this.assertWritable();
    validateStreamName(stream);
    const checked = readOptions<{ expectedVersion?: unknown; hard?: boolean }>(options, 'deleteStream options', DELETE_OPTIONS);
    const expected = validateExpectedVersion(checked.expectedVersion);
    const hard = checked.hard === true;
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    await this.enqueueAppend(SYSTEM_STREAM, () => {
      if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
      const current = this.index.streams.get(stream)?.pendingVersion ?? -1;
      checkExpectedVersion(stream, expected, current);
      return { stream, deleted: hard ? 'hard' : 'soft', truncateBefore: current + 1 };
    }, 'any');
  }

  private readonly lifecycles = new StreamLifecycles();
  /** Changes to SYSTEM_STREAM accepted but not yet durable, by position. */
  private readonly pendingChanges = new Map<number, LifecycleChange>();

  private applyChange(position: number, version: number): void {
    const change = this.pendingChanges.get(position);
    if (!change) return;
    this.pendingChanges.delete(position);
    this.lifecycles.apply(change, version);
  }

  /** Reads the changes of SYSTEM_STREAM that are not applied yet (on open, and after a read-only refresh). */
  private async loadLifecycles(): Promise<void> {
    const from = this.lifecycles.appliedVersion + 1;
    if ((this.index.streams.get(SYSTEM_STREAM)?.version ?? -1) < from) return;
    for await (const event of this.streamEvents(SYSTEM_STREAM, 'forward', from, Infinity, KEEP_EVERYTHING)) {
      this.lifecycles.apply(event.data as LifecycleChange, event.version);
    }
  }

  /**
   * Appends events to a stream as one atomic batch. Resolves with the last
   * event's position and version once the batch is durable.
   */
  async append<V extends ExpectedVersion = ExpectedVersion>(
    stream: string,
    events: EventInput<E>[],
    options?: AppendOptions<V> & NotInferredFrom<CheckedAppendOptions<V>>,
  ): Promise<AppendResult> {
    this.assertWritable();
    validateName(stream, 'stream name');
    // From here on only the store's own copy of the events is read (counted, framed, encoded).
    const inputs = validateEvents(events, this.options.maxEventBytes);
    const expected = readAppendOptions(options).expectedVersion;
    // After the events' own checks, so that bad data is named whatever the stream.
    validateStreamName(stream);
    if (this.healthNow.log === 'verifying') {
      // Acknowledge nothing on a log not yet known to be intact: damage found
      // under the snapshot would make a later repair set these events aside.
      await this.verification;
      this.assertWritable();
    }
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    const mayBeRetry = inputs.every((input) => input.id !== undefined);
    if (mayBeRetry) {
      const retry = await this.findRetry(stream, inputs, expected);
      if (retry) return retry;
    }
    try {
      return await this.enqueueAppend(stream, inputs, expected);
    } catch (error) {
      // The first attempt may have been queued while this one was being compared: compare again once it is durable.
      if (!(mayBeRetry && error instanceof ExpectedVersionConflictError)) throw error;
      const retry = await this.findRetry(stream, inputs, expected);
      if (retry) return retry;
      throw error;
    }
  }

  /**
   * Queues one append. `change`: an append to SYSTEM_STREAM, whose one event
   * is made, and checked against the stream it is about, at the moment the
   * append takes its place (so no other append can come between).
   */
  private async enqueueAppend(stream: string, given: ValidEvent[] | (() => LifecycleChange), expected: ExpectedVersion): Promise<AppendResult> {
    const count = typeof given === 'function' ? 1 : given.length;
    let reserved = false;
    if (!this.writer.hasRoom(count)) {
      await this.writer.waitForRoom(count);
      reserved = true;
    }
    try {
      this.assertWritable();
      const entry = this.index.streams.get(stream);
      const current = entry ? entry.pendingVersion : -1;
      if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
      checkExpectedVersion(stream, expected, current);
      const change = typeof given === 'function' ? given() : undefined;
      const inputs = change ? [changeAsEvent(change)] : (given as ValidEvent[]);
      const firstPosition = this.nextPosition;
      const firstVersion = current + 1;
      const timestamp = Date.now();
      const framed = this.frame(stream, inputs, firstPosition, firstVersion, timestamp);
      const queued: QueuedAppend = {
        stream,
        firstPosition,
        firstVersion,
        count,
        bytes: framed.bytes,
        recordOffsets: framed.recordOffsets,
        resolve: () => undefined,
        reject: () => undefined,
      };
      if (this.projections.names.length > 0) this.projections.fold(queued, isSystemStream(stream) ? [] : decodeAppend(framed));
      // Nothing can fail from here on: take the positions and versions.
      this.nextPosition += count;
      this.index.headOrCreate(stream).pendingVersion = firstVersion + count - 1;
      if (change) {
        this.pendingChanges.set(firstPosition, change);
        if ('deleted' in change && change.deleted === 'hard') this.lifecycles.markHardDeleting(change.stream);
      }
      const result: AppendResult = { position: firstPosition + count - 1, version: firstVersion + count - 1 };
      const written = new Promise<AppendResult>((resolve, reject) => {
        queued.resolve = () => resolve(result);
        queued.reject = reject;
        this.writer.enqueue(queued, reserved);
        reserved = false;
      });
      this.trackInFlight(stream, written);
      return await written;
    } finally {
      if (reserved) this.writer.release(count);
    }
  }

  /**
   * The first append's result when this batch (every event with an id) is a
   * retry of it; see lifecycle/idempotency.ts for where it looks and what it costs.
   */
  private async findRetry(stream: string, inputs: ValidEvent[], expected: ExpectedVersion): Promise<AppendResult | null> {
    // A first attempt still on its way to disk is waited for, so that its retry finds it.
    await this.inFlight.get(stream)?.catch(() => undefined);
    this.assertWritable();
    const place = placeToExamine(expected, inputs.length, this.index.streams.get(stream)?.version ?? -1);
    if (!place) return null;
    const stored: StoredId[] = [];
    for await (const event of this.streamEvents(stream, 'forward', place.fromVersion, place.count, KEEP_EVERYTHING)) {
      stored.push({ id: event.id, position: event.position, version: event.version });
    }
    return matchRetry(stream, inputs.map((input) => input.id!), stored);
  }

  /** The last append queued for each stream, while it is on its way to disk. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private trackInFlight(stream: string, written: Promise<unknown>): void {
    this.inFlight.set(stream, written);
    const settle = () => {
      if (this.inFlight.get(stream) === written) this.inFlight.delete(stream);
    };
    written.then(settle, settle);
  }

  /** The durable state of a projection (frozen): includes every acknowledged append, nothing else. */
  state<K extends keyof P & string>(name: K): ProjectionState<P[K]> {
    if (typeof name !== 'string') throw new InvalidInputError(`a projection name must be a string, got ${formatValueForMessage(name)}`);
    return this.projections.state(name) as ProjectionState<P[K]>;
  }

  /**
   * Folds one stream on demand, up to version `to` (default: its last
   * version) — the stream's state as it was at that version.
   */
  async aggregateStream<S>(stream: string, options: AggregateStreamOptions<S, E>): Promise<S> {
    validateStreamName(stream);
    const checked = readOptions<AggregateStreamOptions<S, E>>(options, 'aggregateStream options', AGGREGATE_OPTIONS, ['initialState', 'evolve']);
    const to = checked.to ?? Infinity;
    const events: RecordedEvent<E>[] = [];
    for await (const event of this.readStream(stream)) {
      if (event.version > to) break;
      events.push(event);
    }
    const evolve = checked.evolve as AggregateStreamOptions<S, E>['evolve'];
    let at: RecordedEvent<E> | undefined;
    try {
      return produce(checked.initialState as S, (draft: Draft<S>) => {
        for (const event of events) {
          at = event;
          evolve(draft, event);
        }
      });
    } catch (error) {
      throw new AggregateStreamError(stream, at?.version ?? null, error);
    }
  }

  /**
   * Delivers every durable event in global order to `handler`: first from the
   * subscription's stored checkpoint, then live. At least once; never a gap.
   */
  async subscribe(name: string, handler: EventHandler<E>, options?: SubscribeOptions): Promise<Subscription> {
    this.assertWritable();
    const checkedOptions = readOptions<SubscribeOptions>(options, 'subscribe options', SUBSCRIBE_OPTIONS);
    if (typeof name === 'string' && this.subscriptions.has(name)) throw new SubscriptionActiveError(name);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below needs the store, not the source object
    const store = this;
    const starting = Subscription.start(
      {
        fs: this.fs,
        directory: this.directory,
        get lastPosition() {
          return store.position;
        },
        read: (from) => this.readAll({ from }),
        // Never resolves at once for a caught-up subscription, even while closing:
        // close() stops every subscription first (which wakes it), and an
        // immediate answer here would spin its loop without ever yielding.
        waitForEventsAfter: (position) =>
          position < this.position ? Promise.resolve() : new Promise<void>((resolve) => this.newEventWaiters.push(resolve)),
      },
      name,
      handler as StoredEventHandler,
      checkedOptions,
      (s) => {
        const live = this.subscriptions.get(s.name);
        if (live === s || live === null) this.subscriptions.delete(s.name);
      },
    ).catch((error: unknown) => {
      throw asStorageError(error, `Could not start subscription ${formatValueForMessage(name)}`);
    });
    // The name is taken before the first await, so that two concurrent calls cannot both start.
    this.subscriptions.set(name, null);
    try {
      const subscription = await starting;
      if (this.closing) {
        // close() began while it was starting: it must not outlive the store.
        await subscription.stop().catch(() => undefined);
        throw new StoreClosedError();
      }
      if (subscription.finished) this.subscriptions.delete(name);
      else this.subscriptions.set(name, subscription);
      return subscription;
    } catch (error) {
      this.subscriptions.delete(name);
      throw error;
    }
  }

  /** Events of one stream, by version. Every record's CRC is checked. */
  async *readStream(stream: string, options?: ReadStreamOptions): AsyncGenerator<RecordedEvent<E>> {
    validateStreamName(stream);
    const checked = readOptions<ReadStreamOptions>(options, 'readStream options', READ_STREAM_OPTIONS);
    this.assertReadable();
    const direction = checked.direction ?? 'forward';
    yield* this.streamEvents(stream, direction, checked.from, checked.limit ?? Infinity, this.retentionOf(stream, Date.now())) as AsyncGenerator<RecordedEvent<E>>;
  }

  /** A stream's events that `retention` keeps, by version (`from`: default 0 forward, the last version backward). */
  private async *streamEvents(stream: string, direction: 'forward' | 'backward', from: number | undefined, limit: number, retention: Retention): AsyncGenerator<RecordedEvent> {
    const entry = this.index.streams.get(stream);
    if (!entry || entry.version < 0 || limit === 0 || retention.hidden) return;
    const head = { position: entry.position, offset: entry.offset, version: entry.version };
    if (direction === 'forward') {
      const first = Math.max(from ?? 0, retention.fromVersion);
      if (first > head.version) return;
      // Follow the chain back to `first`, then read forward: only this stream's records are touched.
      const places: EventPlace[] = [];
      for await (const place of this.chain(stream, head, first)) places.push(place);
      let cache = null;
      for (let i = places.length - 1, n = 0; i >= 0 && n < limit; i--) {
        const read = await this.reader.eventAt(places[i].position, places[i].offset, cache, true);
        cache = read.cache;
        if (!keeps(retention, read.event)) continue;
        n++;
        yield read.event;
      }
    } else {
      const top = Math.min(from ?? head.version, head.version);
      let cache = null;
      const lowest = Math.max(retention.fromVersion, limit === Infinity ? 0 : top - limit + 1);
      if (top < lowest) return;
      for await (const place of this.chain(stream, head, lowest)) {
        if (place.version > top) continue;
        const read = await this.reader.eventAt(place.position, place.offset, cache, false);
        cache = read.cache;
        if (!keeps(retention, read.event)) continue;
        yield read.event;
      }
    }
  }

  /** The places of a stream's events from its head back to version `to`, each link checked. */
  private async *chain(stream: string, head: EventPlace & { version: number }, to: number): AsyncGenerator<EventPlace & { version: number }> {
    let place = head;
    let cache = null;
    for (;;) {
      const read = await this.reader.headerAt(place.position, place.offset, cache, false);
      cache = read.cache;
      const header = read.header;
      if (header.stream !== stream || header.version !== place.version) {
        this.reader.fail(this.index.segmentOf(place.position), place.offset, `stream "${stream}" version ${place.version} links to an event of stream "${header.stream}" version ${header.version}`);
      }
      yield place;
      if (place.version <= to) return;
      place = { position: header.prevPosition, offset: header.prevOffset, version: place.version - 1 };
    }
  }

  /** Every durable event in global order. Every record's CRC is checked. */
  readAll(options?: ReadAllOptions): AsyncGenerator<RecordedEvent<E>> {
    const checked = readOptions<ReadAllOptions>(options, 'readAll options', READ_ALL_OPTIONS);
    const from = checked.from ?? 0;
    const limit = checked.limit ?? Infinity;
    this.assertReadable();
    return this.retainedEvents(from, limit) as AsyncGenerator<RecordedEvent<E>>;
  }

  /** Events in global order that their streams' retention keeps (removed ones are skipped; positions stay as assigned). */
  private async *retainedEvents(from: number, limit: number): AsyncGenerator<RecordedEvent> {
    if (limit <= 0) return;
    const now = Date.now();
    let n = 0;
    for await (const event of this.reader.forward(from, Infinity)) {
      if (!keeps(this.retentionOf(event.stream, now), event)) continue;
      yield event;
      if (++n >= limit) return;
    }
  }

  /**
   * Takes a snapshot of everything durable now: projection states, the
   * stream index and the log position. Appends keep flowing while it is
   * written. Resolves once the snapshot is durable; null for an empty store.
   */
  async checkpoint(): Promise<CheckpointResult | null> {
    this.assertWritable();
    while (this.snapshotInFlight) await this.snapshotInFlight.catch(() => undefined);
    if (this.position < 0) return null;
    return this.startSnapshot();
  }

  private startSnapshot(): Promise<CheckpointResult> {
    const started = performance.now();
    let contents: SnapshotContents;
    try {
      contents = this.captureSnapshot();
    } catch (error) {
      return Promise.reject(error);
    }
    this.lastSnapshotPosition = contents.position;
    this.logBytesSinceSnapshot = 0;
    // Snapshots are captured when they fall due and written one after another,
    // so where they land does not depend on how long the previous write took.
    // At most one waits: a newer one due meanwhile replaces its contents.
    const waiting = this.snapshotWaiting;
    if (waiting) {
      waiting.contents = contents;
      return waiting.written;
    }
    const previous = this.snapshotInFlight;
    const slot = { contents, written: undefined as unknown as Promise<CheckpointResult> };
    if (previous) this.snapshotWaiting = slot;
    const writing = (async () => {
      if (previous) {
        await previous.catch(() => undefined);
        if (this.snapshotWaiting === slot) this.snapshotWaiting = undefined;
      }
      const { contents } = slot;
      // In 'flush' mode the covered events may not be on disk yet; a snapshot must never outlive its log.
      if (this.options.durability !== 'fsync') await this.log.sync();
      try {
        if (!contents.lastRecord) {
          const segment = this.index.segmentOf(contents.position);
          await recordLastRecord(contents, segment, this.log.segments[segment].durableSize, (i, offset, length) => this.log.read(i, offset, length));
        }
        const file = await writeSnapshot(this.fs, this.directory, contents, this.options.keepSnapshots);
        return { file, position: contents.position, durationMs: performance.now() - started };
      } catch (error) {
        throw asStorageError(error, `Could not write a snapshot of ${this.directory}`);
      }
    })();
    slot.written = writing;
    this.snapshotInFlight = writing;
    const settle = () => {
      if (this.snapshotInFlight === writing) this.snapshotInFlight = undefined;
    };
    writing.then(settle, settle);
    return writing;
  }

  /** Everything durable right now, copied so that appends can carry on while it is written. */
  private captureSnapshot(): SnapshotContents {
    const projections = this.projections.snapshot();
    for (const [name, { state }] of Object.entries(projections)) {
      assertPlainData(state, `the state of projection "${name}"`);
    }
    const names: string[] = [];
    const versions: number[] = [];
    const positions: number[] = [];
    const offsets: number[] = [];
    for (const [name, head] of this.index.streams) {
      if (head.version < 0) continue;
      names.push(name);
      versions.push(head.version);
      positions.push(head.position);
      offsets.push(head.offset);
    }
    const bases = this.index.segmentBases;
    return {
      position: this.position,
      logEnd: { segmentBase: bases[bases.length - 1], offset: this.index.endOffset },
      ...(this.lastRecord ? { lastRecord: { ...this.lastRecord } } : {}),
      segmentBases: bases.slice(),
      streams: { names, versions, positions, offsets },
      sparseOffsets: this.index.sparseOffsets.slice(),
      projections,
      createdAt: new Date().toISOString(),
    };
  }

  /**
   * Read-only stores: takes in what a writer appended since the log was last
   * read — every complete, committed append, with the checks of recovery.
   * Resolves with the new last position. (A writable store is always current.)
   */
  async refresh(): Promise<number> {
    this.assertReadable();
    if (!this.readOnly) return this.position;
    this.refreshing ??= (async () => {
      try {
        const replaying = this.projections.names.length > 0;
        const added = await readNewAppends(this.fs, this.directory, this.index, this.log, replaying ? (events) => this.projections.replay(withoutSystemEvents(events)) : undefined);
        await this.loadLifecycles();
        this.projections.finishReplay();
        if (added > 0) this.wakeSubscribers();
      } finally {
        this.refreshing = undefined;
      }
    })();
    await this.refreshing;
    return this.position;
  }

  /**
   * Every durable event from `from` on in global order, then each new one as
   * it becomes durable — until the store closes or `signal` aborts. A
   * read-only store looks for a writer's new appends every `pollMs`.
   */
  async *follow(options?: FollowOptions): AsyncGenerator<RecordedEvent<E>> {
    const checked = readOptions<FollowOptions>(options, 'follow options', FOLLOW_OPTIONS);
    let next = checked.from ?? 0;
    const pollMs = checked.pollMs ?? 100;
    const { signal } = checked;
    for (;;) {
      // Events removed by retention (and the store's own) are skipped: what was read covers the end seen here.
      const end = this.position;
      for await (const event of this.readAll({ from: next })) {
        yield event;
        next = event.position + 1;
        if (signal?.aborted) return;
      }
      next = Math.max(next, end + 1);
      if (this.closing || signal?.aborted) return;
      await this.nextEvents(next, this.readOnly ? pollMs : Infinity, signal);
      if (this.closing || signal?.aborted) return;
      if (this.readOnly) await this.refresh();
    }
  }

  /** Resolves once an event at `position` is durable, the store closes, `signal` aborts, or `ms` pass. */
  private nextEvents(position: number, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (position <= this.position) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.newEventWaiters = this.newEventWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = ms === Infinity ? undefined : setTimeout(done, ms);
      this.newEventWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Copies the store, while it keeps working, into `dest` (which must not
   * exist): every event durable now, the newest snapshot up to there and the
   * subscription checkpoints, as a store that opens on its own. Works on
   * read-only stores too. See recovery/backup.ts for how it stays consistent.
   */
  async backup(dest: string): Promise<BackupResult> {
    this.assertReadable();
    if (typeof dest !== 'string' || dest.length === 0) throw new InvalidInputError(`backup needs a destination directory, got ${formatValueForMessage(dest)}`);
    const target = this.baseFs instanceof NodeFileSystem ? nodePath.resolve(dest) : dest;
    // A backup of a log found damaged would be a damaged store marked clean.
    const health = await this.verified();
    if (health.problem) throw health.problem;
    return typedBackup(target, backupStore(this.fs, this.directory, this.baseFs, target, () => {
      // The published end, not the writer's: a batch being written is not in the index yet.
      const bases = this.index.segmentBases;
      return {
        position: this.position,
        segments: bases.map((_, i) => ({ name: this.log.segments[i].name, bytes: i === bases.length - 1 ? this.index.endOffset : this.log.segments[i].durableSize })),
      };
    }));
  }

  /**
   * Waits for queued appends, syncs, leaves the clean-shutdown marker and releases the lock.
   * A second call returns the first call's promise: it resolves when the lock is released.
   */
  close(): Promise<void> {
    this.closingDone ??= this.closeOnce();
    return this.closingDone;
  }

  private closingDone: Promise<void> | undefined;

  private async closeOnce(): Promise<void> {
    this.closing = true;
    clearInterval(this.lockWatch);
    try {
      // Subscriptions stop first, before anything is awaited: they resume
      // from their checkpoints after the next open (at least once), and a
      // live one must not keep running while the store shuts down. A failed
      // final checkpoint does not stop the close (its events come again).
      const stopping = Promise.allSettled([...this.subscriptions.values()].map((s) => s?.stop()));
      this.wakeSubscribers();
      await this.writer.drain();
      await this.snapshotInFlight?.catch(() => undefined);
      const health = await this.verification;
      await stopping;
      await this.refreshing?.catch(() => undefined);
      // A log found damaged under its snapshot is not closed cleanly: the next open checks it again.
      if (!this.writer.failure && !this.readOnly && !this.lockLost && !health.problem) {
        if (this.options.durability !== 'fsync') await this.log.sync();
        await writeCleanMarker(this.fs, this.directory, this.position);
      }
    } catch (error) {
      // The store still closes (files, lock) so it can be reopened; the next open recovers as after a crash.
      throw asStorageError(error, `Could not close the store in ${this.directory} cleanly`);
    } finally {
      this.closed = true;
      try {
        await this.log.close();
      } finally {
        await this.lock.release();
      }
    }
  }

  private frame(stream: string, inputs: ValidEvent[], firstPosition: number, firstVersion: number, timestamp: number) {
    try {
      return frameAppend(stream, inputs as EventToFrame[], firstPosition, firstVersion, timestamp, this.options.maxEventBytes);
    } catch (error) {
      throw new InvalidInputError(`an event cannot be stored: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Called by the writer just before a batch is written at `batchOffset`: link each record to its stream's previous event. */
  private seal(batch: QueuedAppend[], batchOffset: number): void {
    // Throwing here fails the batch before a byte of it is written: the store fail-stops.
    if (this.lockLost) throw this.lockLost;
    const links = new Map<string, EventPlace>();
    let batchBytes = 0;
    for (const append of batch) batchBytes += append.bytes.length;
    const write = { start: batchOffset, bytes: batchBytes };
    let base = batchOffset;
    for (const append of batch) {
      const previous = links.get(append.stream) ?? this.index.head(append.stream);
      links.set(append.stream, sealAppend(append, base, write, previous));
      base += append.bytes.length;
    }
    if (this.projections.names.length > 0) {
      const last = batch[batch.length - 1];
      last.states = this.projections.settle(last);
    }
  }

  /** Called by the writer once a batch is durable: make it visible to readers. */
  private publish(batch: QueuedAppend[], batchOffset: number): void {
    const index = this.index;
    while (index.segmentBases.length < this.log.segments.length) {
      index.segmentBases.push(this.log.segments[index.segmentBases.length].base);
    }
    let base = batchOffset;
    for (const append of batch) {
      if (append.stream === SYSTEM_STREAM) this.applyChange(append.firstPosition, append.firstVersion);
      this.projections.publish(append.states);
      const appendBase = base;
      index.addDurable(append.stream, append.firstVersion, append.firstPosition, append.count, (i) => appendBase + append.recordOffsets[i]);
      base += append.bytes.length;
    }
    index.endOffset = base;
    const last = batch[batch.length - 1];
    const lastStart = last.recordOffsets[last.count - 1];
    this.lastRecord = {
      segmentBase: this.log.last.base,
      offset: base - last.bytes.length + lastStart,
      length: last.bytes.length - lastStart,
      crc: recordFingerprint(last.bytes.subarray(lastStart)),
    };
    this.wakeSubscribers();
    this.logBytesSinceSnapshot += base - batchOffset;
    const { snapshotEvery: every, snapshotEveryBytes: everyBytes } = this.options;
    const due = (every > 0 && this.position - this.lastSnapshotPosition >= every) || (everyBytes > 0 && this.logBytesSinceSnapshot >= everyBytes);
    if (due) {
      this.startSnapshot().then(
        () => (this.snapshotError = undefined),
        (error: Error) => (this.snapshotError = error),
      );
    }
  }

  private wakeSubscribers(): void {
    if (this.newEventWaiters.length === 0) return;
    const waiters = this.newEventWaiters;
    this.newEventWaiters = [];
    for (const wake of waiters) wake();
  }

  private assertWritable(): void {
    if (this.closing) throw new StoreClosedError();
    if (this.readOnly) throw new ReadOnlyStoreError(this.directory);
    if (this.writer.failure) throw this.writer.failure;
    if (this.healthNow.problem) throw this.healthNow.problem;
  }

  private assertReadable(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** A backup's disk errors as StorageError (its own refusals are already typed). */
function typedBackup<T>(dest: string, backup: Promise<T>): Promise<T> {
  return backup.catch((error: unknown) => {
    throw asStorageError(error, `Could not back up to ${dest}`);
  });
}

/** Starts the index from a snapshot; the log scan then adds what came after it. */
function seedIndex(index: StreamIndex, contents: SnapshotContents): void {
  const { names, versions, positions, offsets } = contents.streams;
  for (let i = 0; i < names.length; i++) {
    index.streams.set(names[i], { version: versions[i], pendingVersion: versions[i], position: positions[i], offset: offsets[i] });
  }
  for (const offset of contents.sparseOffsets) index.sparseOffsets.push(offset);
  index.durableCount = contents.position + 1;
  index.endOffset = contents.logEnd.offset;
}

function checkExpectedVersion(stream: string, expected: ExpectedVersion, current: number): void {
  if (!matchesExpectedVersion(expected, current)) throw new ExpectedVersionConflictError(stream, expected, current);
}

/** Replays and projections see the application's events only, never the store's own (system streams). */
function withoutSystemEvents(events: RecordedEvent[]): RecordedEvent[] {
  return events.some((e) => isSystemStream(e.stream)) ? events.filter((e) => !isSystemStream(e.stream)) : events;
}
