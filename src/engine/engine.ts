import { produce, type Draft } from 'immer';
import type { AggregateStreamOptions, AppendResult, CheckpointResult, ReadAllOptions, ReadStreamOptions, RecordedEvent } from '../api';
import { AggregateStreamError, asStorageError, ExpectedVersionConflictError, InvalidInputError, LegacyStreamNamesError, ReadOnlyStoreError, ReentrantCallError, StoreClosedError, StreamDeletedError, SubscriptionActiveError } from '../errors';
import type { ExpectedVersion } from '../expected-version';
import { AgeLimitedStreams, type Aged } from '../lifecycle/age-limited-streams';
import { matchRetry, placeToExamine, refuseRepeatedIds, windowToExamine, type StoredId } from '../lifecycle/idempotency';
import { changeAsEvent, copyMetadata, isSystemStream, readLifecycleChange, streamsReadsReturn, keeps, KEEP_EVERYTHING, StreamLifecycles, SYSTEM_STREAM, validateMetadata, validateStreamName, type LifecycleChange, type Retention, type RetentionReport, type StreamMetadata } from '../lifecycle/stream-metadata';
import type { ScavengeProgress, ScavengeResult } from '../log-reports';
import type { ScavengeOptions } from '../lifecycle/scavenge';
import { AGGREGATE_OPTIONS, DELETE_OPTIONS, SCAVENGE_OPTIONS, FOLLOW_OPTIONS, READ_ALL_OPTIONS, READ_STREAM_OPTIONS, readAppendOptions, readOptions, SUBSCRIBE_OPTIONS } from '../validate/options';
import { formatValueForMessage, givePayloadsBack, validateEvents, validateExpectedVersion, validateName, type EventInput as ValidEvent } from '../validate/validate-input';
import { asOneAppend, firstOutcome, OutdatedStatesError, type EventLog, type LogAppend, type LogListener, type ProjectionSnapshot } from './event-log';
import type { ProjectionStates } from './projections';
import { eventsOfPages } from './events-of-pages';
import { SnapshotSchedule, type SnapshotEvery } from './snapshot-schedule';
import { StreamLanes } from './stream-lanes';
import { Subscription, type EventHandler, type SubscribeOptions, type SubscriptionSource } from './subscriptions';

/** The engine's own settings (the rest of the open options belong to the log). */
export interface EngineSettings extends SnapshotEvery {
  /** Largest encoded event, checked by validation before the log frames it. */
  maxEventBytes: number;
}

/** Options of `follow()`. */
export interface FollowOptions {
  /** First global position (default 0). */
  from?: number;
  /** A read-only store looks for new appends this often, in milliseconds (default 100). */
  pollMs?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/**
 * The engine: what an event store does whatever holds its events — input
 * validation, projections and their states, subscriptions, snapshots of
 * state on a schedule, `aggregateStream`, `follow`. It talks to its log only
 * through EventLog (src/engine/event-log.ts), and is the log's LogListener:
 * the log tells it which appends it accepts, orders and makes durable, and
 * which events other processes appended, always in global order.
 *
 * Projections fold in global position order: this process's appends when
 * they are accepted (an `evolve` that throws refuses the append), events of
 * other processes when the log reports them. `state()` moves when events are
 * durable, and includes an append by the time its promise resolves.
 */
export class Engine implements LogListener {
  readonly foldsEvents: boolean;
  private closing = false;
  private closed = false;
  /** Aborted when close() begins: wakes every `follow` waiting for events. */
  private readonly closingSignal = new AbortController();
  /** Live subscriptions by name; null while one is starting (its name is already taken). */
  private readonly subscriptions = new Map<string, Subscription | null>();
  private readonly snapshots: SnapshotSchedule;
  private closingDone: Promise<void> | undefined;
  /** Stream metadata and deletions, from SYSTEM_STREAM (see lifecycle/stream-metadata.ts). */
  private readonly lifecycles = new StreamLifecycles();
  /** This process's changes to SYSTEM_STREAM taking their place or on their way to disk, by append. */
  private readonly pendingChanges = new Map<LogAppend, LifecycleChange>();
  /** This process's appends in flight, per stream: call order, and a quiet moment for a batch with ids to decide. */
  private readonly lanes = new StreamLanes();
  /** Which streams under a maxAge still hold an event reads return (for `streams()`). */
  private readonly ages = new AgeLimitedStreams(
    (stream, top) => this.agedDown(stream, top),
    (stream, now) => (this.lifecycles.ageLimited.has(stream) ? this.retentionOf(stream, now) : null),
    (stream) => this.log.streamVersion(stream),
  );

  constructor(
    readonly log: EventLog,
    private readonly projections: ProjectionStates,
    private readonly settings: EngineSettings,
  ) {
    this.foldsEvents = projections.names.length > 0;
    this.snapshots = new SnapshotSchedule(log, projections, settings, () => this.eventsRemoved());
    log.listen(this);
  }

  // ---- LogListener: the log's reports, in global order ----

  restoreSnapshot(saved: ProjectionSnapshot): string | undefined {
    return this.projections.restoreSnapshot(saved);
  }

  replay(events: readonly RecordedEvent[]): void {
    // ProjectionStates leaves the store's own events out (every log's replay goes through it).
    this.projections.replay(events);
  }

  finishReplay(): void {
    this.projections.finishReplay();
  }

  accepting(append: LogAppend, events: readonly RecordedEvent[] | null, decodeAgain?: () => readonly RecordedEvent[]): void {
    const stream = append.stream;
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    const change = stream === SYSTEM_STREAM ? this.pendingChanges.get(append) : undefined;
    if (events) {
      if (isSystemStream(stream)) this.projections.fold(append, []);
      else this.projections.fold(append, events, decodeAgain);
    }
    // Nothing can refuse the append after this.
    if (change && 'deleted' in change && change.deleted === 'hard') this.lifecycles.markHardDeleting(change.stream);
  }

  refused(append: LogAppend): void {
    this.projections.discard(append);
    // A hard delete that was not written (its commit failed) deletes nothing: appends to its stream are taken again.
    const change = append.stream === SYSTEM_STREAM ? this.pendingChanges.get(append) : undefined;
    if (!change) return;
    // Placed again, its `prepare` makes the change anew.
    this.pendingChanges.delete(append);
    if ('deleted' in change && change.deleted === 'hard') this.lifecycles.unmarkHardDeleting(change.stream);
  }

  ordered(last: LogAppend): void {
    this.projections.settleBatch(last);
  }

  appended(appends: readonly LogAppend[], lastPosition: number, bytes: number): void {
    if (this.pendingChanges.size > 0) {
      for (const append of appends) {
        if (append.stream !== SYSTEM_STREAM) continue;
        const change = this.pendingChanges.get(append);
        this.pendingChanges.delete(append);
        // Every event of SYSTEM_STREAM reaches the engine in order (own, discovered, loaded on open): the next version is the next one.
        if (change) this.lifecycles.apply(change, this.lifecycles.appliedVersion + 1);
        if (change && 'stream' in change) this.ages.forget(change.stream);
      }
    }
    if (this.lifecycles.ageLimited.size > 0) {
      for (const append of appends) if (this.lifecycles.ageLimited.has(append.stream)) this.ages.appended(append.stream, this.log.streamVersion(append.stream));
    }
    if (this.foldsEvents) this.projections.publishDurable(appends[appends.length - 1]);
    this.snapshots.noteDurable(lastPosition, bytes);
  }

  discovered(events: readonly RecordedEvent[], lastPosition: number): void {
    for (const event of events) {
      if (event.stream !== SYSTEM_STREAM) {
        if (this.lifecycles.ageLimited.has(event.stream)) this.ages.discovered(event.stream, event);
        continue;
      }
      // Must not throw: a record that is not a lifecycle change (see applyRecorded) fails the next open instead.
      const change = readLifecycleChange(event);
      if (change) this.lifecycles.apply(change, event.version);
      if (change && 'stream' in change) this.ages.forget(change.stream);
    }
    if (this.foldsEvents) this.projections.foldDurable(events);
    this.snapshots.noteDurable(lastPosition, 0);
  }

  /** A rebuild of the projections asked for by the log (see `eventsRemoved`), while it runs. */
  private rebuilding: Promise<void> | undefined;
  private rebuildAgain = false;
  /** Why the last such rebuild failed (its states stay as they were, and so do their refused snapshots). */
  private rebuildError: unknown;

  /**
   * A scavenge in another process removed stored events (the log says so: a
   * shared log's record that a scavenge finished, a hole it crossed, a
   * snapshot refused as outdated): every projection is rebuilt from the
   * events the log holds, as after this process's own scavenge, with no
   * snapshot written meanwhile. Rebuilds asked for while one runs share one
   * more, after it.
   */
  eventsRemoved(): void {
    if (this.closing) return;
    if (this.rebuilding) {
      this.rebuildAgain = true;
      return;
    }
    this.rebuilding = (async () => {
      do {
        this.rebuildAgain = false;
        try {
          await this.snapshots.heldDuring(() => this.rebuildProjections(this.projections.rebuildOwed));
          this.rebuildError = undefined;
        } catch (error) {
          // The states stay as they were; the log keeps refusing their snapshots, and the next refusal asks again.
          this.rebuildError = error;
        }
      } while (this.rebuildAgain && !this.closing);
    })().finally(() => (this.rebuilding = undefined));
  }

  // ---- The store's operations ----

  /** The last automatic snapshot's failure, if the latest attempt failed. */
  get snapshotError(): Error | undefined {
    return this.snapshots.lastError;
  }

  /**
   * Validates, then hands the append to the log on its own (EventLog.appendOne,
   * else a batch of one), in call order among this process's appends to the
   * stream (see StreamLanes). The usual case (not every event with an id)
   * adds no promise of its own when no append to the stream holds its lane:
   * the caller gets the log's. A batch whose events all carry ids may be a
   * retry of one already written: see lifecycle/idempotency.ts.
   */
  append(stream: string, events: unknown, options: unknown): Promise<AppendResult> {
    let append: LogAppend;
    let inputs: ValidEvent[] | undefined;
    let withIds: number;
    try {
      this.refuseInsideEvolve('append');
      this.assertWritable();
      validateName(stream, 'stream name');
      // From here on only the store's own copy of the events is read (counted, framed, encoded).
      inputs = validateEvents(events, this.settings.maxEventBytes, this.log.recordRoom?.(stream));
      append = new StoreAppend(stream, inputs, readAppendOptions(options).expectedVersion);
      // After the events' own checks, so that bad data is named whatever the stream.
      validateStreamName(stream);
      if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
      withIds = countIds(inputs);
      if (withIds > 1) refuseRepeatedIds(stream, inputs.map((input) => input.id));
    } catch (error) {
      if (inputs) givePayloadsBack(inputs);
      return Promise.reject(error);
    }
    if (withIds < inputs.length) return this.lanes.inOrder(stream, (settled) => this.handOverOne(append, settled));
    return this.holdingLane(append);
  }

  /** An append whose events all carry ids: it holds its stream's lane to decide whether it is a retry. */
  private holdingLane(append: LogAppend): Promise<AppendResult> {
    const ids = append.events.map((event) => (event as ValidEvent).id!);
    return this.lanes.holding(append.stream, () => this.decideWithIds(append, ids));
  }

  /** One append to the log, alone: its own call when the log has one (no batch arrays, one promise), else a batch of one. */
  private handOverOne(append: LogAppend, settled: () => void): Promise<AppendResult> {
    if (this.log.appendOne) return this.log.appendOne(append, settled);
    return asOneAppend(this.log.append([append]), settled);
  }

  /**
   * An append whose events all carry ids, holding its stream's lane (every
   * earlier append to the stream settled, later ones wait): a retry of one
   * already written is answered with its result, anything else handed to the log.
   * One whose expected version the stream is already past is answered apart
   * (see answerStale): the stream's other appends do not wait for its read.
   */
  private async decideWithIds(append: LogAppend, ids: string[]): Promise<{ handedOver: Promise<AppendResult> } | { answer: AppendResult } | { apart: Promise<AppendResult> }> {
    this.assertWritable();
    const { stream, expectedVersion } = append;
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    const last = this.log.streamVersion(stream);
    if (placeToExamine(expectedVersion, ids.length, last)) {
      givePayloadsBack(append.events as ValidEvent[]);
      return { apart: this.answerStale(append, ids) };
    }
    const retry = await this.findRetry(stream, expectedVersion, ids);
    if (retry) {
      givePayloadsBack(append.events as ValidEvent[]);
      return { answer: retry };
    }
    this.assertWritable();
    return { handedOver: this.log.append([append]).then(firstOutcome).catch((error: unknown) => this.retryAfterConflict(append, ids, error)) };
  }

  /** A conflict can still hide a first attempt another process wrote meanwhile (a shared log): compare once more. */
  private async retryAfterConflict(append: LogAppend, ids: string[], error: unknown): Promise<AppendResult> {
    if (!(error instanceof ExpectedVersionConflictError)) throw error;
    const again = await this.findRetry(append.stream, append.expectedVersion, ids);
    if (again) return again;
    throw error;
  }

  /**
   * An append with ids whose expected version the stream is already past:
   * it can only be a retry (answered with the first append's result) or a
   * conflict — it writes nothing and takes no place, so it is decided outside
   * the stream's lane, without the log. Its read of the place after the
   * expected version, when that lies before the stream's last events,
   * follows the stream back from its end (on the file log, proportional to
   * how far back that is), once.
   */
  private async answerStale(append: LogAppend, ids: string[]): Promise<AppendResult> {
    const retry = await this.findRetry(append.stream, append.expectedVersion, ids);
    if (retry) return retry;
    throw new ExpectedVersionConflictError(append.stream, append.expectedVersion, this.log.streamVersion(append.stream));
  }

  /**
   * The first append's result when this batch is a retry of it, null when it
   * is new; DuplicateEventIdError for reused ids that are not a retry. See
   * lifecycle/idempotency.ts for where it looks and what it costs: one read
   * of the stream's last events, which also holds the place after a numeric
   * expected version when that lies among them (else one more read, there).
   */
  private async findRetry(stream: string, expected: ExpectedVersion, ids: string[]): Promise<AppendResult | null> {
    const last = this.log.streamVersion(stream);
    const window = windowToExamine(ids.length, last);
    if (!window) return null;
    const lastEvents = await this.storedIds(stream, last, window.fromVersion);
    const place = placeToExamine(expected, ids.length, last);
    if (place) {
      const end = Math.min(last, place.fromVersion + place.count - 1);
      const inPlace = place.fromVersion >= window.fromVersion ? lastEvents.filter((e) => e.version >= place.fromVersion && e.version <= end) : await this.storedIds(stream, end, place.fromVersion);
      // The place first: a first attempt with that expected version can only be there.
      const found = matchRetry(stream, ids, inPlace);
      if (found) return found;
    }
    return matchRetry(stream, ids, lastEvents);
  }

  /** The ids of a stream's events from version `lowest` up to `top`, in version order: one backward read of only those records. */
  private async storedIds(stream: string, top: number, lowest: number): Promise<StoredId[]> {
    const stored: StoredId[] = [];
    for await (const event of this.streamEvents(stream, 'backward', top, top - lowest + 1, KEEP_EVERYTHING)) {
      stored.push({ id: event.id, position: event.position, version: event.version });
    }
    return stored.reverse();
  }

  /**
   * Sets a stream's metadata (it replaces the previous one): `maxCount`,
   * `maxAge` (milliseconds), `truncateBefore` — from then on reads no longer
   * return the events outside them (their bytes stay on disk until
   * `scavenge()`) — and `custom`, the application's own. The stream need not exist
   * yet. Stored durably in the log; resolves once durable.
   */
  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.refuseInsideEvolve('setStreamMetadata');
    this.assertWritable();
    validateStreamName(stream);
    const checked = validateMetadata(metadata, this.settings.maxEventBytes);
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    await this.appendChange(stream, 'any', () => ({ stream, metadata: checked }));
    // Before it resolves, `streams()` knows whether the new age limit leaves the stream an event
    // (the change is durable whatever this read meets: one that fails leaves the stream listed until a later read).
    if (this.lifecycles.ageLimited.has(stream)) await this.ages.evaluate(stream).catch(() => undefined);
  }

  /** A stream's metadata as last set (`{}` when never set); StreamDeletedError for a stream deleted for good. */
  getStreamMetadata(stream: string): StreamMetadata {
    validateStreamName(stream);
    this.assertReadable();
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    return copyMetadata(this.lifecycles.metadata(stream));
  }

  /**
   * Deletes a stream. Soft (default): it reads as empty, and a later append
   * continues its versions (the events before stay removed). `hard: true`:
   * for good. `expectedVersion` is checked as for `append`. Resolves once
   * the deletion is durable.
   */
  async deleteStream(stream: string, options?: { expectedVersion?: ExpectedVersion; hard?: boolean }): Promise<void> {
    this.refuseInsideEvolve('deleteStream');
    this.assertWritable();
    validateStreamName(stream);
    const checked = readOptions<{ expectedVersion?: unknown; hard?: boolean }>(options, 'deleteStream options', DELETE_OPTIONS);
    const expected = validateExpectedVersion(checked.expectedVersion);
    const hard = checked.hard === true;
    if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
    await this.appendChange(stream, expected, (current) => ({ stream, deleted: hard ? 'hard' : 'soft', truncateBefore: current + 1 }));
  }

  /**
   * Appends one change of `stream`'s lifecycle to SYSTEM_STREAM, made (and
   * checked against `stream`) at the moment it takes its place in the log,
   * so no other append can come between.
   */
  private async appendChange(stream: string, expected: ExpectedVersion, make: (current: number) => LifecycleChange): Promise<void> {
    const append: LogAppend = {
      stream: SYSTEM_STREAM,
      events: LIFECYCLE_PLACEHOLDER,
      expectedVersion: expected,
      expectedVersionOf: stream,
      prepare: (current) => {
        if (this.lifecycles.isHardDeleted(stream)) throw new StreamDeletedError(stream);
        const change = make(current);
        this.pendingChanges.set(append, change);
        return [changeAsEvent(change)];
      },
    };
    try {
      // In the lane of the stream it changes: in call order with that stream's appends.
      await this.lanes.inOrder(stream, (settled) => asOneAppend(this.log.append([append]), settled));
    } finally {
      // Refused, or the log failed: the change never applies (a durable one was taken out by `appended`).
      this.pendingChanges.delete(append);
    }
  }

  private readonly lastVersionOf = (stream: string) => this.log.streamVersion(stream);

  /**
   * True when the event is one that `stream`'s retention or deletion removed
   * and a scavenge may take off the storage: never an event of the store's
   * own streams, and never a stream's last event unless the stream is
   * deleted for good — it stays stored, hidden, so that the stream's version
   * survives a scavenge and a reopen (the file log finds a stream's version
   * in its records: a stream whose every event expired would start again at
   * version 0). A stream deleted for good refuses appends: nothing of it stays.
   */
  private removedNow(now: number): (stream: string, version: number, timestamp: number) => boolean {
    return (stream, version, timestamp) => {
      if (isSystemStream(stream)) return false;
      const retention = this.retentionOf(stream, now);
      if (keeps(retention, { version, timestamp })) return false;
      return retention.hidden || version < this.log.streamVersion(stream);
    };
  }

  /**
   * What a scavenge leaves of a record of SYSTEM_STREAM that holds what is no
   * longer read — a `$metadata` record a later one replaced, or one of a
   * stream deleted for good (its `custom` data is the application's, maybe
   * personal) — or null to keep it as it is. The record keeps its place and
   * version (the stream's chain of records stays whole) and says only that
   * a `$metadata` record was erased. The `$deleted` records stay: they
   * refuse later appends, and so keep the stream's name.
   */
  private readonly redacted = (event: RecordedEvent): { type: string; data: unknown } | null => {
    if (event.stream !== SYSTEM_STREAM) return null;
    const change = readLifecycleChange(event);
    if (!change || !('metadata' in change) || !this.lifecycles.metadataRecordErasable(change.stream, event.version)) return null;
    return changeAsEvent({ erased: event.type });
  };

  /**
   * Every stream that has metadata or was deleted: its settings, and how many
   * of its events (and storage bytes) retention and deletion remove now —
   * what a scavenge would give back.
   */
  async retentionReport(): Promise<RetentionReport> {
    this.assertReadable();
    const now = Date.now();
    const removed = this.removedNow(now);
    const report: RetentionReport = { streams: [], removedEvents: 0, reclaimableBytes: 0 };
    for (const [stream, life] of this.lifecycles.entries()) {
      let measured = { events: 0, bytes: 0 };
      if (this.log.measureRemoved) {
        measured = await this.log.measureRemoved(stream, (version, timestamp) => removed(stream, version, timestamp));
      } else {
        for await (const event of this.streamEvents(stream, 'forward', 0, Infinity, KEEP_EVERYTHING)) if (removed(stream, event.version, event.timestamp)) measured.events++;
      }
      const lastVersion = this.log.streamVersion(stream);
      report.streams.push({ stream, metadata: copyMetadata(life.metadata), deleted: life.hardDeleted ? 'hard' : life.softDeleted ? 'soft' : null, lastVersion, removedEvents: measured.events, removedBytes: measured.bytes });
      report.removedEvents += measured.events;
      report.reclaimableBytes += measured.bytes;
    }
    return report;
  }

  private scavenging: Promise<ScavengeResult> | undefined;
  /** The run that starts when the running one ends, shared by every call made meanwhile: whether one of them asked to erase, and their progress callbacks. */
  private nextScavenge: { run: Promise<ScavengeResult>; erase: boolean; onProgress: Array<(progress: ScavengeProgress) => void> } | undefined;

  /**
   * Takes the events that retention and deletion removed off the storage for
   * good (see lifecycle/scavenge.ts, postgres/scavenge.ts); the log must
   * support it. A call while one runs does not share it — that run may have
   * passed what the caller deleted just before — but gets the next one,
   * started when the running one ends (calls made meanwhile share it, and it
   * erases if one of them asked to), so every scavenge a call returns covers
   * every change made before the call. Rejects with StoreClosedError when
   * `close()` stopped it before its end.
   */
  scavenge(options?: ScavengeOptions): Promise<ScavengeResult> {
    if (this.projections.evolving) return Promise.reject(new ReentrantCallError('scavenge'));
    this.assertWritable();
    const checked = readOptions<ScavengeOptions>(options, 'scavenge options', SCAVENGE_OPTIONS);
    if (!this.log.scavenge) throw new InvalidInputError(`the ${this.log.kind} log cannot scavenge`);
    const erase = checked.erase === true;
    const running = this.scavenging;
    if (!running) return this.startScavenge(erase, checked.onProgress);
    if (!this.nextScavenge) {
      const next: NonNullable<Engine['nextScavenge']> = { run: Promise.resolve() as never, erase: false, onProgress: [] };
      next.run = running
        .catch(() => undefined)
        .then(() => {
          this.nextScavenge = undefined;
          if (this.closing) throw new StoreClosedError();
          return this.startScavenge(next.erase, (progress) => next.onProgress.forEach((report) => report(progress)));
        });
      this.nextScavenge = next;
    }
    this.nextScavenge.erase ||= erase;
    if (checked.onProgress) this.nextScavenge.onProgress.push(checked.onProgress);
    return this.nextScavenge.run;
  }

  private startScavenge(erase: boolean, onProgress: ((progress: ScavengeProgress) => void) | undefined): Promise<ScavengeResult> {
    const log = this.log;
    // No snapshot is written while it runs: one of the old segments must not outlive them, nor states folded from removed events.
    this.scavenging = this.snapshots
      .heldDuring(async () => {
        // The storage's current end is sealed, and this record of the scavenge starts what follows: everything before it can be scavenged.
        log.sealForScavenge?.();
        const change: LifecycleChange = { scavengeStarted: new Date().toISOString() };
        const append: LogAppend = { stream: SYSTEM_STREAM, events: [changeAsEvent(change)], expectedVersion: 'any' };
        this.pendingChanges.set(append, change);
        let record: AppendResult;
        try {
          record = firstOutcome(await log.append([append]));
        } finally {
          this.pendingChanges.delete(append);
        }
        const streams = this.lifecycles.entries().map(([stream]) => stream);
        try {
          const result = await log.scavenge!(this.removedNow(Date.now()), onProgress, { streams, erase, below: record.position, redact: this.redacted, removedAt: (now) => this.removedNow(now), retentionVersion: () => this.lifecycles.appliedVersion, retentionChangedSince: (stream, version) => this.lifecycles.changedSince(stream, version) });
          if (result.segmentsDone < result.segmentsTotal) {
            // Only close() stops a scavenge early: what was done stays done, the rest waits for a scavenge after the next open.
            throw new StoreClosedError(`The store was closed while it was scavenged: ${result.segmentsDone} of ${result.segmentsTotal} segments were done; scavenge again after the next open`);
          }
          // Rows another run deleted (one that was killed, or runs in another process) count too: the log's basis tells.
          if (!(await this.rebuildProjections(result.eventsRemoved > 0 || this.projections.rebuildOwed))) {
            throw new StoreClosedError('The store was closed while its projections were rebuilt after a scavenge; the next open folds them from the events kept');
          }
          return result;
        } catch (error) {
          // Events may be gone from the storage: states folded from them must not outlive a rebuild that did not finish.
          // A log that can tell whether rows went (PostgreSQL: projectionsBasis) has them rebuilt now instead, when it can
          // (the run failed midway: its progress callback threw, the server went away), before the caller hears of it.
          const rebuilt = this.foldsEvents && log.projectionsBasis !== undefined && (await this.rebuildProjections(this.projections.rebuildOwed).catch(() => false));
          if (this.foldsEvents && !rebuilt) this.projections.abandonRebuild(error);
          throw error;
        }
      })
      .finally(() => (this.scavenging = undefined));
    return this.scavenging;
  }

  /**
   * After a scavenge removed events: every projection's state is folded
   * again from the events the log holds, as the next open would, while
   * appends go on (see ProjectionStates.rebuild), so that neither `state()`
   * nor a later snapshot holds what was folded from removed events.
   */
  private async rebuildProjections(always: boolean): Promise<boolean> {
    const log = this.log;
    // Read before the log is: a removal after it makes the rebuilt states outdated too (see EventLog.projectionsBasis).
    const basis = await log.projectionsBasis?.();
    // No projection: nothing was folded from the removed events, and snapshots (of no state) may go on at once.
    if (!this.foldsEvents) {
      basis?.adopt();
      return true;
    }
    if (!always && (!basis || basis.current)) return true;
    const adopted = await this.projections.rebuild((from, to) => log.readAll(from, to - from + 1), () => log.lastPosition, () => this.closing);
    // Snapshots are held: none is captured between the adoption and this.
    if (adopted) basis?.adopt();
    return adopted;
  }

  /**
   * Reads the changes of SYSTEM_STREAM not applied yet (on open, and after a
   * read-only refresh), then the end of each stream under a maxAge whose
   * settings it has not read since (see AgeLimitedStreams).
   */
  async loadLifecycles(): Promise<void> {
    const from = this.lifecycles.appliedVersion + 1;
    if (this.log.streamVersion(SYSTEM_STREAM) >= from) {
      for await (const event of this.streamEvents(SYSTEM_STREAM, 'forward', from, Infinity, KEEP_EVERYTHING)) {
        this.applyRecorded(event);
        const change = readLifecycleChange(event);
        if (change && 'stream' in change) this.ages.forget(change.stream);
      }
    }
    for (const stream of this.lifecycles.ageLimited) if (!this.ages.knows(stream)) await this.ages.evaluate(stream);
  }

  /** A stream's events from version `top` down, as stored (retention not applied): their versions and times. */
  private async *agedDown(stream: string, top: number): AsyncGenerator<Aged> {
    for await (const event of this.streamEvents(stream, 'backward', top, Infinity, KEEP_EVERYTHING)) yield event;
  }

  /** One recorded event of SYSTEM_STREAM: applied, or the store refused (never misread, never a crash). */
  private applyRecorded(event: RecordedEvent): void {
    const change = readLifecycleChange(event);
    if (!change) {
      throw new LegacyStreamNamesError(this.log.location, [SYSTEM_STREAM], `holds, in its own stream ${JSON.stringify(SYSTEM_STREAM)} at position ${event.position}, an event of type ${JSON.stringify(event.type)} that is not one of its lifecycle records`);
    }
    this.lifecycles.apply(change, event.version);
  }

  /** Which events of a stream reads return now (see lifecycle/stream-metadata.ts). */
  private retentionOf(stream: string, now: number): Retention {
    return this.lifecycles.retention(stream, this.lastVersionOf, now);
  }

  /** Names of the streams whose events reads return (see streamsReadsReturn). */
  streams(): string[] {
    const now = Date.now();
    return streamsReadsReturn(
      this.log.streams().map((name) => [name, this.log.streamVersion(name)] as const),
      this.lifecycles,
      now,
      (stream, retention) => this.ages.holdsKeptEvent(stream, retention),
    );
  }

  state(name: unknown): unknown {
    if (typeof name !== 'string') throw new InvalidInputError(`a projection name must be a string, got ${formatValueForMessage(name)}`);
    return this.projections.state(name);
  }

  /** A stream's last version (a soft-deleted one's too: appends continue from it); StreamDeletedError once deleted for good. */
  streamVersion(stream: string): number {
    validateStreamName(stream);
    if (this.lifecycles.isDurablyHardDeleted(stream)) throw new StreamDeletedError(stream);
    return this.log.streamVersion(stream);
  }

  /** Folds one stream on demand, up to version `to` (default: its last version). */
  async aggregateStream<S>(stream: string, options: AggregateStreamOptions<S>): Promise<S> {
    validateStreamName(stream);
    const checked = readOptions<AggregateStreamOptions<S>>(options, 'aggregateStream options', AGGREGATE_OPTIONS, ['initialState', 'evolve']);
    const to = checked.to ?? Infinity;
    const events: RecordedEvent[] = [];
    for await (const event of this.readStream(stream)) {
      if (event.version > to) break;
      events.push(event);
    }
    const evolve = checked.evolve as AggregateStreamOptions<S>['evolve'];
    let at: RecordedEvent | undefined;
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

  /** Events of one stream, by version, that its retention keeps. */
  async *readStream(stream: string, options?: ReadStreamOptions): AsyncGenerator<RecordedEvent> {
    validateStreamName(stream);
    const checked = readOptions<ReadStreamOptions>(options, 'readStream options', READ_STREAM_OPTIONS);
    this.assertReadable();
    yield* this.streamEvents(stream, checked.direction ?? 'forward', checked.from, checked.limit ?? Infinity, this.retentionOf(stream, Date.now()));
  }

  /** A stream's events that `retention` keeps, by version (`from`: default 0 forward, the last version backward). */
  private async *streamEvents(stream: string, direction: 'forward' | 'backward', from: number | undefined, limit: number, retention: Retention): AsyncGenerator<RecordedEvent> {
    if (limit === 0 || retention.hidden) return;
    const last = this.log.streamVersion(stream);
    if (last < 0) return;
    // Only an age limit can drop events inside the version range: then the log cannot count them.
    const byAge = retention.minTimestamp !== -Infinity;
    let range: { from: number; limit: number };
    if (direction === 'forward') {
      const first = Math.max(from ?? 0, retention.fromVersion);
      if (first > last) return;
      range = { from: first, limit: byAge ? Infinity : limit };
    } else {
      const top = Math.min(from ?? last, last);
      // With an age limit the last `limit` versions may all be too old while older versions are kept (a clock set back).
      const lowest = Math.max(retention.fromVersion, limit === Infinity || byAge ? 0 : top - limit + 1);
      if (top < lowest) return;
      range = { from: top, limit: top - lowest + 1 };
    }
    let n = 0;
    for await (const page of this.log.readStream(stream, { direction, ...range })) {
      for (const event of page) {
        if (byAge && !keeps(retention, event)) continue;
        yield event;
        if (++n >= limit) return;
      }
    }
  }

  /** Every durable event in global order that its stream's retention keeps (checked synchronously: bad options throw at the call). */
  readAll(options?: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    const checked = readOptions<ReadAllOptions>(options, 'readAll options', READ_ALL_OPTIONS);
    this.assertReadable();
    return this.retainedEvents(checked.from ?? 0, checked.limit ?? Infinity);
  }

  /** The events of `readAll`, a page (never empty) at a time: one promise per page rather than one per event. */
  readAllPages(options?: ReadAllOptions): AsyncGenerator<RecordedEvent[]> {
    const checked = readOptions<ReadAllOptions>(options, 'readAllPages options', READ_ALL_OPTIONS);
    this.assertReadable();
    return this.retainedPages(checked.from ?? 0, checked.limit ?? Infinity);
  }

  /** Events in global order that their streams' retention keeps (removed ones are skipped; positions stay as assigned). */
  private retainedEvents(from: number, limit: number): AsyncGenerator<RecordedEvent> {
    return eventsOfPages(this.retainedPages(from, limit));
  }

  /** `retainedEvents` a page at a time: the log's pages, less what retention removes (a page left empty is skipped). */
  private async *retainedPages(from: number, limit: number): AsyncGenerator<RecordedEvent[]> {
    if (limit <= 0) return;
    const now = Date.now();
    let n = 0;
    for await (const page of this.log.readAll(from, Infinity)) {
      const kept: RecordedEvent[] = [];
      for (const event of page) {
        if (!keeps(this.retentionOf(event.stream, now), event)) continue;
        kept.push(event);
        if (++n >= limit) break;
      }
      if (kept.length > 0) yield kept;
      if (n >= limit) return;
    }
  }

  /** Takes a snapshot of everything durable now; null for an empty store. */
  async checkpoint(): Promise<CheckpointResult | null> {
    this.refuseInsideEvolve('checkpoint');
    this.assertWritable();
    for (;;) {
      try {
        return await this.snapshots.checkpoint();
      } catch (error) {
        if (!(error instanceof OutdatedStatesError) || this.closing) throw error;
        // A scavenge removed events these states were folded from: they are rebuilt, then the snapshot is taken.
        this.eventsRemoved();
        await this.rebuilding;
        if (this.rebuildError) throw this.rebuildError;
      }
    }
  }

  /** Takes in what other writers appended (see EventLog.refresh); resolves with the new last position. */
  async refresh(): Promise<number> {
    this.assertReadable();
    const last = await this.log.refresh();
    await this.loadLifecycles();
    return last;
  }

  /** Every durable event from `from` on, then each new one as it becomes durable, until close or `signal`. */
  async *follow(options?: FollowOptions): AsyncGenerator<RecordedEvent> {
    const checked = readOptions<FollowOptions>(options, 'follow options', FOLLOW_OPTIONS);
    let next = checked.from ?? 0;
    const pollMs = checked.pollMs ?? 100;
    const { signal } = checked;
    const readOnly = this.log.readOnly;
    for (;;) {
      // Events removed by retention (and the store's own) are skipped: what was read covers the end seen here.
      const end = this.log.lastPosition;
      for await (const event of this.readAll({ from: next })) {
        yield event;
        next = event.position + 1;
        if (signal?.aborted) return;
      }
      next = Math.max(next, end + 1);
      if (this.closing || signal?.aborted) return;
      await this.nextEvents(next - 1, readOnly ? pollMs : Infinity, signal);
      if (this.closing || signal?.aborted) return;
      if (readOnly) await this.refresh();
    }
  }

  /** Resolves once an event after `after` is durable, the store closes, `signal` aborts, or `ms` pass. */
  private nextEvents(after: number, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (after < this.log.lastPosition) return Promise.resolve();
    const stop = new AbortController();
    const timer = ms === Infinity ? undefined : setTimeout(() => stop.abort(), ms);
    const signals = [this.closingSignal.signal, stop.signal];
    if (signal) signals.push(signal);
    return this.log.waitForEvents(after, AbortSignal.any(signals)).finally(() => {
      clearTimeout(timer);
      stop.abort();
    });
  }

  /** Delivers every durable event in global order to `handler`: from the stored checkpoint, then live. */
  async subscribe(name: string, handler: EventHandler, options?: SubscribeOptions): Promise<Subscription> {
    this.refuseInsideEvolve('subscribe');
    this.assertWritable();
    const checkedOptions = readOptions<SubscribeOptions>(options, 'subscribe options', SUBSCRIBE_OPTIONS);
    if (typeof name === 'string' && this.subscriptions.has(name)) throw new SubscriptionActiveError(name);
    const starting = Subscription.start(this.subscriptionSource(), name, handler, checkedOptions, (s) => {
      const live = this.subscriptions.get(s.name);
      if (live === s || live === null) this.subscriptions.delete(s.name);
    }).catch((error: unknown) => {
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

  /** What a subscription reads from and stores its checkpoints in: this store's log, events as `readAll` returns them. */
  private subscriptionSource(): SubscriptionSource {
    const log = this.log;
    return {
      get lastPosition() {
        return log.lastPosition;
      },
      read: (from) => this.readAll({ from }),
      refresh: () => log.refresh(),
      // Never resolves at once for a caught-up subscription, even while closing:
      // close() stops every subscription first (which wakes it), and an
      // immediate answer here would spin its loop without ever yielding.
      waitForEventsAfter: (position) => log.waitForEvents(position),
      readCheckpoint: (subscription) => log.readCheckpoint(subscription),
      writeCheckpoint: (subscription, position) => log.writeCheckpoint(subscription, position),
    };
  }

  /**
   * Stops subscriptions first, before anything is awaited (they resume from
   * their checkpoints after the next open, at least once; a failed final
   * checkpoint does not stop the close), wakes every `follow`, then closes
   * the log once the snapshot in flight and the final checkpoints are written.
   * A second call returns the first call's promise.
   */
  close(): Promise<void> {
    this.closingDone ??= this.closeOnce();
    return this.closingDone;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    const stopping = Promise.allSettled([...this.subscriptions.values()].map((s) => s?.stop()));
    this.closingSignal.abort();
    const finishing = (async () => {
      // A scavenge stops between segments, and its rebuild of the projections between pages.
      await this.scavenging?.catch(() => undefined);
      await this.rebuilding;
      await this.ages.settled();
      await this.snapshots.settled();
      await stopping;
    })();
    try {
      await this.log.close(finishing);
    } finally {
      this.closed = true;
    }
  }

  /**
   * A write from inside a projection's `evolve` is refused on every log: the
   * file log folds an append after taking its position and before moving
   * past it, so the write would take that same position (two records with
   * one position: the log no longer opens).
   */
  private refuseInsideEvolve(operation: string): void {
    if (this.projections.evolving) throw new ReentrantCallError(operation);
  }

  private assertWritable(): void {
    if (this.closing) throw new StoreClosedError();
    const log = this.log;
    if (log.readOnly) throw new ReadOnlyStoreError(log.location);
    if (log.failure) throw log.failure;
    const problem = log.health.problem;
    if (problem) throw problem;
  }

  assertReadable(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** How many of the events carry an id. */
function countIds(events: readonly ValidEvent[]): number {
  let count = 0;
  for (let i = 0; i < events.length; i++) if (events[i].id !== undefined) count++;
  return count;
}


/**
 * A caller's append on its way to the log. The log lets go of its events
 * once it framed them (see FileLog.acceptOne), so that one V8 allocated in
 * the old generation (see AcceptedAppend in src/file-log/file-log.ts) keeps
 * nothing young alive but its stream's name.
 */
class StoreAppend implements LogAppend {
  constructor(
    readonly stream: string,
    public events: readonly ValidEvent[],
    readonly expectedVersion: ExpectedVersion,
  ) {}
}

/** Stands for the one event of a lifecycle change until `prepare` makes it (it counts for back-pressure). */
const LIFECYCLE_PLACEHOLDER: readonly ValidEvent[] = [{ type: '$placeholder' }];
