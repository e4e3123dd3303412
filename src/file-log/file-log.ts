import * as nodePath from 'node:path';
import type { AppendResult, RecordedEvent } from '../api';
import { asOneAppend, NO_LISTENER, RELEASED_EVENTS, type EngineSnapshot, type EventLog, type LogAppend, type LogAppendOutcome, type LogHealth, type LogListener, type LogStreamRead, type StoredCheckpoint } from '../engine/event-log';
import { asStorageError, type CorruptionError, EventfoldError, ExpectedVersionConflictError, InvalidInputError, ReadOnlyStoreError, StoreClosedError } from '../errors';
import { matchesExpectedVersion } from '../expected-version';
import type { FileSystem } from '../fs/file-system';
import { NodeFileSystem } from '../fs/node-file-system';
import { LogReader, type BlockCache } from '../log/log-reader';
import { decodeAppend, frameAppend, NO_PREVIOUS, recordRoomBefore, sealAppend, type EventToFrame } from '../log/record';
import { releaseArenaBytes } from '../log/arena';
import type { Segment, SegmentedLog } from '../log/segmented-log';
import { withNameTable, type EventPlace, type StreamIndex } from '../log/stream-index';
import { backupStore } from '../recovery/backup';
import { writeCleanMarker } from '../recovery/clean-marker';
import type { HeldLock } from '../recovery/lock';
import { readNewAppends } from '../recovery/read-ahead';
import type { BackupResult, RecoveryReport, ScavengeProgress, ScavengeResult } from '../log-reports';
import type { CoveredLog } from '../recovery/verify-covered';
import { verifyCoveredLogAside } from '../recovery/verify-covered-aside';
import { checkpointFile, readCheckpoint, writeCheckpoint } from '../snapshot/checkpoint-file';
import { recordFingerprint } from '../snapshot/log-end';
import type { SnapshotContents } from '../snapshot/snapshot-file';
import { recordLastRecord, writeSnapshot } from '../snapshot/snapshots';
import type { StoreSettings } from '../validate/options';
import { formatValueForMessage, type RoomBefore } from '../validate/validate-input';
import { GroupCommitWriter, type QueuedAppend } from '../writer/group-commit-writer';
import { removeSnapshots, scavengeSegments, type ScavengeHost } from '../lifecycle/scavenge';
import { ScavengedSegments } from '../lifecycle/scavenged-segments';
import { rewrittenUnderResume, ScavengeFollower } from '../lifecycle/follow-scavenge';
import { scrubQuarantine } from '../lifecycle/scrub-quarantine';
import { failStopFileSystem } from '../fs/fail-stop-file-system';
import { logDirOf } from '../store-layout';
import { SCAVENGE_STARTED, SYSTEM_STREAM } from '../lifecycle/stream-metadata';

const LOCK_CHECK_MS = 1000;
/** Most events in one page of `readStream`. */
const STREAM_PAGE_EVENTS = 256;

/** An accepted append on its way through the group commit, with what the engine handed in and what it resolves with. */
interface FileAppend extends QueuedAppend {
  readonly request: LogAppend;
  /** Its result, made afresh (see AcceptedAppend.resolve). */
  result(): AppendResult;
  /** The record a scavenge appends when it starts (see sealForScavenge). */
  readonly scavengeRecord: boolean;
  /** Called once it is settled: its lane's callback (an append on its own), and its caller's answer or refusal. */
  settled: () => void;
  answer: (result: AppendResult) => void;
  refuse: (error: Error) => void;
}

/**
 * An accepted append, queued until its batch is durable; the writer settles
 * it by calling `resolve` or `reject`, which answer its caller (`answer` /
 * `refuse`, and `settled` for its stream's lane).
 *
 * Once settled it lets go of everything it held (request, bytes, record
 * offsets, callbacks): V8 may allocate it straight in the old generation
 * (allocation-site pretenuring — seen for this class after the batched and
 * 10,000-at-once bench rows, in some runs and not others), where it stays,
 * dead, until a full collection. Holding its young promise, views and
 * callbacks meanwhile kept them alive through every young collection, to be
 * promoted in turn: at 50,000 single appends/s, 2.3 MB survived each young
 * collection (5 ms pauses) and full collections came every second. A
 * settled append that holds nothing young costs a dead object, whatever
 * V8 decided.
 */
class AcceptedAppend implements FileAppend {
  readonly stream: string;
  settled: () => void = noop;
  answer: (result: AppendResult) => void = noop;
  refuse: (error: Error) => void = noop;

  constructor(
    public request: LogAppend,
    readonly firstPosition: number,
    readonly firstVersion: number,
    readonly count: number,
    public bytes: Buffer,
    public recordOffsets: readonly number[],
    readonly sealsBefore: boolean,
    readonly scavengeRecord: boolean,
  ) {
    this.stream = request.stream;
  }

  result(): AppendResult {
    return { position: this.firstPosition + this.count - 1, version: this.firstVersion + this.count - 1 };
  }

  /** Durable: the writer is done with it (seal and publish came first). */
  resolve(): void {
    const { settled, answer } = this;
    // Its bytes are on disk and nothing reads them again (publish took what it needed; the projections let go of
    // their way to decode them again when the batch was published): their arena may write over them.
    // Not on `reject`: a failed batch's appends may still be folded again by the projections' drafts.
    releaseArenaBytes(this.bytes);
    this.letGo();
    settled();
    // Made now, not when accepted: a result that waited with its append through the 10,000-at-once row had V8
    // allocate every later one straight in the old generation (garbage there, for a full collection to find).
    answer(this.result());
  }

  reject(error: Error): void {
    const { settled, refuse } = this;
    this.letGo();
    settled();
    refuse(error);
  }

  private letGo(): void {
    this.request = SETTLED_REQUEST;
    this.bytes = NO_BYTES;
    this.recordOffsets = NO_OFFSETS;
    this.settled = noop;
    this.answer = noop;
    this.refuse = noop;
  }
}

/** What a settled append holds instead of its request, bytes and offsets. */
const SETTLED_REQUEST: LogAppend = Object.freeze({ stream: '', events: [], expectedVersion: 'any' as const });
const NO_BYTES = Buffer.alloc(0);
const NO_OFFSETS: readonly number[] = [];

/**
 * The file log's part of a snapshot (kept in the snapshot file beside the
 * projection states, see src/snapshot/FORMAT.md): where the log ends, the
 * record at that end, and the stream index, so an open can skip the log up
 * to there.
 */
type FileSnapshotPart = Omit<SnapshotContents, 'position' | 'projections' | 'createdAt'>;

/** What an open hands a FileLog (see open-file-log.ts). */
export interface FileLogParts {
  directory: string;
  /** The file layer behind the read-only guard when read-only. */
  fs: FileSystem;
  /** The file layer without the read-only guard (where backups are written). */
  baseFs: FileSystem;
  log: SegmentedLog;
  index: StreamIndex;
  lock: HeldLock;
  settings: StoreSettings;
  recovery: RecoveryReport;
  readOnly: boolean;
  /** The log a snapshot covers, still to be checked in the background. */
  covered: CoveredLog | undefined;
  onCorruption: ((error: CorruptionError) => void) | undefined;
}

const noop = () => undefined;

/** A place of a stream's event and the segment file it is an offset of (a scavenge may replace the file). */
type PlaceInFile = EventPlace & { file: Segment };

/** The last block a stream read used, and the file it came from. */
interface PlaceCache {
  block: BlockCache | null;
  file: Segment | undefined;
}

/**
 * The file log: segments written by a group commit (one write and one
 * fdatasync per batch), a stream index in memory (each stream's last event
 * and byte offset; records link to their stream's previous event), recovery
 * on open (open-file-log.ts), a kernel lock (or none, read-only), the
 * background check of the log a snapshot covers, and online backup.
 */
export class FileLog implements EventLog {
  readonly kind = 'file';
  readonly location: string;
  readonly readOnly: boolean;
  readonly recovery: RecoveryReport;
  private listener: LogListener = NO_LISTENER;
  private closing = false;
  private closed = false;
  private nextPosition: number;
  private readonly directory: string;
  private readonly fs: FileSystem;
  private readonly baseFs: FileSystem;
  private readonly log: SegmentedLog;
  private readonly index: StreamIndex;
  private readonly lock: HeldLock;
  private readonly settings: StoreSettings;
  private readonly reader: LogReader;
  private readonly writer: GroupCommitWriter;
  private healthNow: LogHealth = Object.freeze({ log: 'verified', problem: null });
  private verification: Promise<LogHealth> = Promise.resolve(this.healthNow);
  private newEventWaiters: Array<() => void> = [];
  private refreshing: Promise<void> | undefined;
  /** Checks every LOCK_CHECK_MS that the lock file was not removed or replaced (see recovery/lock.ts). */
  private lockWatch: NodeJS.Timeout | undefined;
  private checkingLock = false;
  /** Set once another process holds the store's lock: every later batch fails, so the store fail-stops. */
  private lockLost: Error | undefined;
  /** The last durable record, as a snapshot records it (unknown until the first batch after the open). */
  private lastRecord: SnapshotContents['lastRecord'];
  private closingDone: Promise<void> | undefined;

  constructor(parts: FileLogParts) {
    this.directory = parts.directory;
    this.location = parts.directory;
    this.fs = parts.fs;
    this.baseFs = parts.baseFs;
    this.log = parts.log;
    this.index = parts.index;
    this.lock = parts.lock;
    this.settings = parts.settings;
    this.recovery = parts.recovery;
    this.readOnly = parts.readOnly;
    this.nextPosition = parts.index.durableCount;
    this.reader = new LogReader(parts.log, parts.index, () => this.assertReadable());
    this.writer = new GroupCommitWriter(
      parts.log,
      parts.settings,
      (batch, offset) => this.seal(batch as FileAppend[], offset),
      (batch, offset) => this.publish(batch as FileAppend[], offset),
    );
    if (!parts.readOnly) this.lockWatch = setInterval(() => void this.checkLock(), LOCK_CHECK_MS).unref();
    if (parts.covered) this.verifyInBackground(parts.covered, parts.onCorruption);
    if (parts.readOnly) this.follower = new ScavengeFollower({ fs: parts.fs, logDir: logDirOf(parts.directory), log: parts.log, index: parts.index });
  }

  /** Read-only: follows a writer's scavenges (lifecycle/follow-scavenge.ts); set up by the open. */
  private readonly follower: ScavengeFollower | undefined;

  /** Read-only: holds a reader on every segment, so reads use the files the open read (called by the open). */
  async pinSegments(): Promise<void> {
    await this.follower?.pin();
  }

  listen(listener: LogListener): void {
    this.listener = listener;
  }

  /** See EventLog.recordRoom: a record's fixed header, stream, type and id go before its payload. */
  recordRoom(stream: string): RoomBefore {
    return recordRoomBefore(stream);
  }

  get lastPosition(): number {
    return this.index.durableCount - 1;
  }

  get pendingEvents(): number {
    return this.writer.backlog;
  }

  get failure(): EventfoldError | undefined {
    return this.writer.failure;
  }

  get health(): LogHealth {
    return this.healthNow;
  }

  verified(): Promise<LogHealth> {
    return this.verification;
  }

  streamVersion(stream: string): number {
    return this.index.streams.get(stream)?.version ?? -1;
  }

  streams(): string[] {
    return [...this.index.streams.namesWithEvents()];
  }

  /**
   * See EventLog.append. The usual case takes no await before its appends
   * are queued; it waits first only for the background check or for room in
   * the writer's queue.
   */
  append(batch: readonly LogAppend[]): Promise<LogAppendOutcome[]> {
    let events = 0;
    try {
      this.assertWritable();
      for (let i = 0; i < batch.length; i++) events += batch[i].events.length;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.admitting === 0 && this.healthNow.log !== 'verifying' && this.writer.hasRoom(events)) return this.accept(batch, events, false);
    return this.appendWhenAdmitted(batch, events);
  }

  /** See EventLog.appendOne: the usual case queues the append at once, with one promise and no batch arrays. */
  appendOne(append: LogAppend, settled: () => void): Promise<AppendResult> {
    try {
      this.assertWritable();
    } catch (error) {
      settled();
      return Promise.reject(error);
    }
    const events = append.events.length;
    if (this.admitting > 0 || this.healthNow.log === 'verifying' || !this.writer.hasRoom(events)) {
      // It must wait (for the background check, or for room in the queue): as a batch of one.
      return asOneAppend(this.appendWhenAdmitted([append], events), settled);
    }
    const accepted = this.acceptOne(append);
    if (accepted instanceof EventfoldError) {
      settled();
      return Promise.reject(accepted);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      accepted.settled = settled;
      accepted.answer = resolve;
      accepted.refuse = reject;
      this.writer.enqueue(accepted, false);
    });
  }

  /**
   * Appends waiting in appendWhenAdmitted, for the background check or for
   * room in the queue: while there are any, every later append waits behind
   * them too. Otherwise an append called between the moment a waiting one is
   * let in and the moment it resumes (a microtask later) took the fast path
   * and its place first, against the call order of a stream's appends
   * (session 8's review reproduced that with a full queue).
   */
  private admitting = 0;
  /** Settles once the append that last entered appendWhenAdmitted was queued or refused: the next one waits for it. */
  private lastAdmitted: Promise<void> = Promise.resolve();

  private async appendWhenAdmitted(batch: readonly LogAppend[], events: number): Promise<LogAppendOutcome[]> {
    const ahead = this.lastAdmitted;
    let done!: () => void;
    this.lastAdmitted = new Promise<void>((resolve) => (done = resolve));
    this.admitting++;
    try {
      await ahead;
      if (this.healthNow.log === 'verifying') {
        // Acknowledge nothing on a log not yet known to be intact: damage found
        // under the snapshot would make a later repair set these events aside.
        await this.verification;
      }
      this.assertWritable();
      let reserved = false;
      if (!this.writer.hasRoom(events)) {
        await this.writer.waitForRoom(events);
        reserved = true;
      }
      // Queued in this same step, before the next waiting append resumes.
      return this.accept(batch, events, reserved);
    } finally {
      this.admitting--;
      done();
    }
  }

  /**
   * Checks, frames and queues each append in order; the promise settles when
   * the accepted ones are durable (or the writer fails). `reserved`: room for
   * `events` was reserved by `waitForRoom`; a refused append gives its share back.
   */
  private accept(batch: readonly LogAppend[], events: number, reserved: boolean): Promise<LogAppendOutcome[]> {
    try {
      this.assertWritable();
    } catch (error) {
      if (reserved) this.writer.release(events);
      return Promise.reject(error);
    }
    const outcomes: LogAppendOutcome[] = new Array(batch.length);
    const queued: FileAppend[] = [];
    for (let i = 0; i < batch.length; i++) {
      const accepted = this.acceptOne(batch[i]);
      if (accepted instanceof EventfoldError) {
        outcomes[i] = accepted;
        if (reserved) this.writer.release(batch[i].events.length);
      } else {
        outcomes[i] = accepted.result();
        queued.push(accepted);
      }
    }
    if (queued.length === 0) return Promise.resolve(outcomes);
    return new Promise<LogAppendOutcome[]>((resolve, reject) => {
      let waiting = queued.length;
      const durable = () => {
        if (--waiting === 0) resolve(outcomes);
      };
      for (const append of queued) {
        append.answer = durable;
        append.refuse = reject;
        this.writer.enqueue(append, reserved);
      }
    });
  }

  /** One append accepted, or refused; a refused one gives its payloads' bytes back to their arena (nothing frames it again). */
  private acceptOne(append: LogAppend): FileAppend | EventfoldError {
    const payloads = append.prepare ? undefined : (append.events[0] as EventToFrame | undefined)?.packed;
    const accepted = this.frameAndAccept(append);
    if (payloads && accepted instanceof EventfoldError) releaseArenaBytes(payloads);
    return accepted;
  }

  /** One append: the expected-version check against every accepted append, framing, the engine's check; then its positions are taken. */
  private frameAndAccept(append: LogAppend): FileAppend | EventfoldError {
    const { stream, expectedVersion } = append;
    const checked = append.expectedVersionOf ?? stream;
    const checkedVersion = this.index.streams.get(checked)?.pendingVersion ?? -1;
    if (!matchesExpectedVersion(expectedVersion, checkedVersion)) return new ExpectedVersionConflictError(checked, expectedVersion, checkedVersion);
    const current = checked === stream ? checkedVersion : (this.index.streams.get(stream)?.pendingVersion ?? -1);
    let events = append.events;
    if (append.prepare) {
      try {
        events = append.prepare(checkedVersion);
      } catch (error) {
        return asEventfoldError(error);
      }
    }
    const count = events.length;
    const firstPosition = this.nextPosition;
    const firstVersion = current + 1;
    let framed;
    try {
      framed = frameAppend(stream, events as EventToFrame[], firstPosition, firstVersion, Date.now(), this.settings.maxEventBytes);
    } catch (error) {
      return new InvalidInputError(`an event cannot be stored: ${(error as Error).message}`, { cause: error });
    }
    try {
      // The frame is held until it is durable: the engine may let go of the decoded events and decode them again from it.
      if (this.listener.foldsEvents) this.listener.accepting(append, decodeAppend(framed) as RecordedEvent[], () => decodeAppend(framed) as RecordedEvent[]);
      else this.listener.accepting(append, null);
    } catch (error) {
      return asEventfoldError(error);
    }
    // Nothing can fail from here on: take the positions and versions.
    // The frame holds the events now: their copies need not live until the batch is durable (fewer survivors for the GC).
    append.events = RELEASED_EVENTS;
    this.nextPosition += count;
    this.index.headOrCreate(stream).pendingVersion = firstVersion + count - 1;
    return new AcceptedAppend(
      append,
      firstPosition,
      firstVersion,
      count,
      framed.bytes,
      framed.recordOffsets,
      this.takeSeal(),
      stream === SYSTEM_STREAM && count === 1 && (events[0] as EventToFrame).type === SCAVENGE_STARTED,
    );
  }

  private takeSeal(): boolean {
    const seal = this.sealNextAccepted;
    this.sealNextAccepted = false;
    return seal;
  }

  /** Called by the writer just before a batch is written at `batchOffset`: link each record to its stream's previous event. */
  private seal(batch: FileAppend[], batchOffset: number): void {
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
    // This log alone orders its appends: the batch's states can be settled now.
    if (this.listener.foldsEvents) this.listener.ordered?.(batch[batch.length - 1].request);
  }

  /** Called by the writer once a batch is durable: make it visible to readers, then tell the engine. */
  private publish(batch: FileAppend[], batchOffset: number): void {
    const index = this.index;
    // A batch that starts a new segment is its first: the segment holds nothing before it.
    if (index.segmentBases.length < this.log.segments.length) this.lastSegmentHoldsOnlyScavengeRecords = true;
    while (index.segmentBases.length < this.log.segments.length) {
      index.segmentBases.push(this.log.segments[index.segmentBases.length].base);
    }
    for (const append of batch) this.lastSegmentHoldsOnlyScavengeRecords &&= append.scavengeRecord;
    let base = batchOffset;
    const requests: LogAppend[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const append = batch[i];
      requests[i] = append.request;
      index.addDurable(append.stream, append.firstVersion, append.firstPosition, append.count, append.recordOffsets, base);
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
    this.listener.appended(requests, this.lastPosition, base - batchOffset);
    this.wakeWaiters();
  }

  readAll(from: number, limit: number): AsyncIterable<readonly RecordedEvent[]> {
    this.assertReadable();
    return this.reader.forwardPages(from, limit) as AsyncIterable<readonly RecordedEvent[]>;
  }

  /** A stream's events by following its chain of records from its head: only its own records are read. */
  async *readStream(stream: string, options: LogStreamRead): AsyncGenerator<readonly RecordedEvent[]> {
    this.assertReadable();
    const { direction, limit } = options;
    const entry = this.index.streams.get(stream);
    if (!entry || entry.version < 0 || limit <= 0) return;
    const head = { position: entry.position, offset: entry.offset, version: entry.version };
    const events = direction === 'forward' ? this.streamForward(stream, head, options.from ?? 0, limit) : this.streamBackward(stream, head, Math.min(options.from ?? head.version, head.version), limit);
    let page: RecordedEvent[] = [];
    for await (const event of events) {
      page.push(event);
      if (page.length === STREAM_PAGE_EVENTS) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  /** A stream's events from version `from` up: the chain is followed back to `from` first, then read forward. */
  private async *streamForward(stream: string, head: EventPlace & { version: number }, from: number, limit: number): AsyncGenerator<RecordedEvent> {
    if (from > head.version) return;
    const places: PlaceInFile[] = [];
    for await (const place of this.chain(stream, head, from)) places.push(place);
    const cache: PlaceCache = { block: null, file: undefined };
    for (let i = places.length - 1, n = 0; i >= 0 && n < limit; i--, n++) {
      const event = await this.eventAtPlace(places[i], cache, true);
      if (event) yield event;
    }
  }

  /** A stream's events from version `from` down, as the chain is followed. */
  private async *streamBackward(stream: string, head: EventPlace & { version: number }, from: number, limit: number): AsyncGenerator<RecordedEvent> {
    const cache: PlaceCache = { block: null, file: undefined };
    const lowest = limit === Infinity ? 0 : Math.max(0, from - limit + 1);
    for await (const place of this.chain(stream, head, lowest)) {
      if (place.version > from) continue;
      const event = await this.eventAtPlace(place, cache, false);
      if (event) yield event;
    }
  }

  /**
   * The event at a place `chain` found. A scavenge may have put a rewritten
   * file in place of the segment since: the place's offset then names
   * nothing there, and the event is found again by its position (undefined
   * when that scavenge removed it). Nothing is awaited between making sure
   * of the file and reading it, so the read is of that file.
   */
  private async eventAtPlace(place: PlaceInFile, cache: PlaceCache, ahead: boolean): Promise<RecordedEvent | undefined> {
    let { offset, file } = place;
    for (;;) {
      if (this.fileOf(place.position) !== file) {
        const found = await this.placeNow(place.position);
        if (found.offset === undefined) return undefined;
        ({ file, offset } = found);
      }
      // A block read from the file before it was replaced names old offsets.
      if (cache.file !== file) cache.block = null;
      try {
        const read = await this.reader.eventAt(place.position, offset, cache.block, ahead);
        cache.block = read.cache;
        cache.file = file;
        return read.event as RecordedEvent;
      } catch (error) {
        // Replaced again while it was read (its reader let go of, or a record past a block read in two): find it in the new file.
        if (this.fileOf(place.position) === file) throw error;
      }
    }
  }

  /** The segment file that holds `position` now. */
  private fileOf(position: number): Segment {
    return this.log.segments[this.index.segmentOf(position)];
  }

  /**
   * Where the event at `position` is in the scavenged segment file that
   * holds it now (offset undefined when a scavenge removed it). Looking it
   * up reads that file, possibly more than once; a scavenge that replaces
   * the file meanwhile (the next one, back to back) makes what was read of
   * it stale, or its reads fail once its reader is let go of: then it is
   * looked up again in the file that holds it now.
   */
  private async placeNow(position: number): Promise<{ file: Segment; offset: number | undefined }> {
    for (;;) {
      const file = this.fileOf(position);
      let offset: number | undefined;
      try {
        offset = await this.scavengedSegments.locate(file, position);
      } catch (error) {
        if (this.fileOf(position) === file) throw error;
        continue;
      }
      if (this.fileOf(position) === file) return { file, offset };
    }
  }

  /** The places of a stream's events from its head back to version `to`, each link checked, each with the file it was found in. */
  private async *chain(stream: string, head: EventPlace & { version: number }, to: number): AsyncGenerator<PlaceInFile & { version: number; bytes: number }> {
    let place = head;
    let cache = null;
    let cacheFile: unknown;
    for (;;) {
      let file = this.fileOf(place.position);
      if (this.index.inScavengedSegment(place.position)) {
        // Rewritten by a scavenge: offsets that links name there are hints; the event is found by its position.
        const found = await this.placeNow(place.position);
        if (found.offset === undefined) return; // removed: the stream's kept events begin after it
        file = found.file;
        place = { ...place, offset: found.offset };
      }
      // Read now, with nothing awaited since the file was looked up: the place's offset is one of this file.
      if (cacheFile !== file) cache = null;
      cacheFile = file;
      let read;
      try {
        read = await this.reader.headerAt(place.position, place.offset, cache, false);
      } catch (error) {
        // Replaced while it was read: a scavenged segment now, where the event is found by its position.
        if (this.fileOf(place.position) === file) throw error;
        continue;
      }
      cache = read.cache;
      const header = read.header;
      if (header.stream !== stream || header.version !== place.version) {
        this.reader.fail(this.index.segmentOf(place.position), place.offset, `stream "${stream}" version ${place.version} links to an event of stream "${header.stream}" version ${header.version}`);
      }
      yield { ...place, file, bytes: read.bytes };
      // NO_PREVIOUS past version 0: a scavenge removed the events before this one.
      if (place.version <= to || header.prevPosition === NO_PREVIOUS) return;
      place = { position: header.prevPosition, offset: header.prevOffset, version: place.version - 1 };
    }
  }

  /** How many of a stream's stored events `removed` says are gone, and the log bytes they take. */
  async measureRemoved(stream: string, removed: (version: number, timestamp: number) => boolean): Promise<{ events: number; bytes: number }> {
    this.assertReadable();
    const entry = this.index.streams.get(stream);
    const measured = { events: 0, bytes: 0 };
    if (!entry || entry.version < 0) return measured;
    const cache: PlaceCache = { block: null, file: undefined };
    for await (const place of this.chain(stream, { position: entry.position, offset: entry.offset, version: entry.version }, 0)) {
      // Found again by position when a scavenge replaced its file since the chain passed it.
      const event = await this.eventAtPlace(place, cache, false);
      if (!event) continue;
      if (removed(place.version, event.timestamp)) {
        measured.events++;
        measured.bytes += place.bytes;
      }
    }
    return measured;
  }

  private readonly scavengedSegments = new ScavengedSegments((segment, offset, length) => this.log.readSegment(segment, offset, length));
  private scavenging: Promise<ScavengeResult> | undefined;

  /** Set by sealForScavenge: the next append accepted starts a new segment. */
  private sealNextAccepted = false;

  /**
   * The next append accepted (the scavenge's own record, or one called
   * after it) starts a new segment; every append accepted before — also
   * one not yet written, which would otherwise share its batch and land in
   * the new segment — is written in the current one, which the scavenge
   * then covers.
   */
  sealForScavenge(): void {
    // A segment holding nothing but the records of earlier scavenges has nothing to scavenge: sealing it would only
    // add a segment file (and a descriptor in every reader) per scavenge.
    if (this.lastSegmentHoldsOnlyScavengeRecords) return;
    this.sealNextAccepted = true;
  }

  /**
   * True while every record of the segment being appended to is a record of
   * a scavenge (`$scavenge`), as this process wrote them (false after an
   * open until the next roll: unknown, so the next scavenge seals).
   */
  private lastSegmentHoldsOnlyScavengeRecords = false;

  /**
   * Rewrites the sealed segments without the events `removed` says are gone
   * (src/lifecycle/scavenge.ts), then zeroes the removed events' records in
   * quarantine/. Each segment is put in place while no backup or snapshot is
   * being written; every snapshot is removed (and snapshots/ fsynced) just
   * before the first one, so no crash point leaves a snapshot of the old
   * segments behind. The engine writes no snapshot while a scavenge runs.
   */
  scavenge(removed: (stream: string, version: number, timestamp: number) => boolean, onProgress?: (progress: ScavengeProgress) => void, scope: { redact?: ScavengeHost['redact']; retentionVersion?: () => number; retentionChangedSince?: (stream: string, version: number) => boolean } = {}): Promise<ScavengeResult> {
    this.assertWritable();
    this.scavenging ??= this.runScavenge(removed, onProgress, scope).finally(() => (this.scavenging = undefined));
    return this.scavenging;
  }

  private async runScavenge(removed: (stream: string, version: number, timestamp: number) => boolean, onProgress: ((progress: ScavengeProgress) => void) | undefined, scope: { redact?: ScavengeHost['redact']; retentionVersion?: () => number; retentionChangedSince?: (stream: string, version: number) => boolean }): Promise<ScavengeResult> {
    /** Set once this run removed the snapshots, before its first segment swap. */
    let snapshotsRemoved = false;
    /** Set when `onProgress` threw: the scavenge stops there and rejects with that error. */
    let callbackError: { error: unknown } | undefined;
    // Every disk call of the scavenge that changes the disk and fails fail-stops the store, as an append's does.
    const fs = this.failStopping(`disk call of a scavenge`);
    try {
      const result = await scavengeSegments(
        {
          fs,
          logDir: logDirOf(this.directory),
          segments: this.log.segments,
          read: (segment, offset, length) => this.log.readSegment(segment, offset, length),
          removed,
          redact: scope.redact,
          retentionVersion: scope.retentionVersion,
          retentionChangedSince: scope.retentionChangedSince,
          commit: (i, steps, rewritten, span, places, stillJudged) =>
            this.exclusive(async () => {
              // Until the swap below, this process reads the old file through an open handle, never the new one by name.
              await this.log.readSegment(this.log.segments[i], 0, 1);
              // Before the first rename, durably: a snapshot describes the old segments (their byte offsets) and may hold
              // states folded from the removed events, so after any crash or backup from here on none is left to be used.
              if (!snapshotsRemoved) {
                await removeSnapshots(fs, this.directory);
                snapshotsRemoved = true;
              }
              // What the rewrite relies on (a stream's newer event, a newer `$metadata`) must not be lost to a power cut it outlives.
              if (this.settings.durability !== 'fsync') {
                await this.log.sync().catch((error: unknown) => {
                  throw this.writer.failStop(error, 'fsync of the log before a scavenge rewrote a segment');
                });
              }
              await steps.write();
              // No lifecycle change is acknowledged from the judgement's last check to the rename: an acknowledged change
              // (a retention loosened) either came before the check, and the segment is judged again, or comes after the rename.
              const resume = await this.writer.pause();
              try {
                if (!stillJudged()) {
                  await steps.discard();
                  return false;
                }
                await steps.rename();
              } finally {
                resume();
              }
              await steps.syncDir();
              this.log.replaceSegment(i, rewritten);
              this.index.scavenged.set(rewritten.base, span);
              this.scavengedSegments.remember(rewritten, places);
              return true;
            }),
          stopping: () => this.closing,
        },
        onProgress &&
          ((progress) => {
            try {
              onProgress(progress);
            } catch (error) {
              callbackError = { error };
              throw error;
            }
          }),
      );
      result.quarantinedRecordsZeroed = await scrubQuarantine(fs, this.directory, removed, scope.redact);
      return result;
    } catch (error) {
      // The application's own callback threw: its error, as it is (the disk did nothing wrong).
      if (callbackError && error === callbackError.error) throw error;
      throw asStorageError(error, `Could not scavenge ${this.directory}`);
    }
  }

  /** Backups, snapshot writes and a scavenge's segment replacements, one at a time. */
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private exclusive<T>(action: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(action, action);
    this.exclusiveTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Read-only: takes in what a writer appended since the log was last read —
   * every complete, committed append, with the checks of recovery. A
   * writable log is always current.
   */
  async refresh(): Promise<number> {
    this.assertReadable();
    if (!this.readOnly) return this.lastPosition;
    this.refreshing ??= (async () => {
      try {
        const listener = this.listener;
        const readNew = () => readNewAppends(this.fs, this.directory, this.index, this.log, listener.foldsEvents ? (events) => listener.replay(events as RecordedEvent[]) : undefined);
        // A writer's scavenge may have replaced segments this store reads (lifecycle/follow-scavenge.ts).
        await this.follower!.check(Date.now());
        const resumeFrom = this.log.last;
        const added = await readNew().catch(async (error: unknown) => {
          // Replaced after it was looked at: the scan failed at its first record, before taking in anything. Looked at again, read again.
          if (!rewrittenUnderResume(error, resumeFrom)) throw error;
          await this.follower!.check(Date.now());
          if (this.log.last === resumeFrom) throw error;
          return readNew();
        });
        await this.follower!.pin();
        listener.finishReplay();
        if (added > 0) this.wakeWaiters();
      } finally {
        this.refreshing = undefined;
      }
    })();
    await this.refreshing;
    return this.lastPosition;
  }

  waitForEvents(after: number, signal?: AbortSignal): Promise<void> {
    if (after < this.lastPosition || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      if (!signal) {
        this.newEventWaiters.push(resolve);
        return;
      }
      const done = () => {
        signal.removeEventListener('abort', done);
        this.newEventWaiters = this.newEventWaiters.filter((w) => w !== done);
        resolve();
      };
      this.newEventWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wakeWaiters(): void {
    if (this.newEventWaiters.length === 0) return;
    const waiters = this.newEventWaiters;
    this.newEventWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The index and log end as durable now (the published end, not the writer's: a batch being written is not in the index yet). */
  captureSnapshot(): { position: number; log: FileSnapshotPart } {
    const bases = this.index.segmentBases;
    return {
      position: this.lastPosition,
      log: {
        logEnd: { segmentBase: bases[bases.length - 1], offset: this.index.endOffset },
        ...(this.lastRecord ? { lastRecord: { ...this.lastRecord } } : {}),
        segmentBases: bases.slice(),
        streams: this.index.streams.toColumns(),
        sparseOffsets: this.index.sparseOffsets.toArray(),
      },
    };
  }

  writeSnapshot(snapshot: EngineSnapshot): Promise<string> {
    return this.exclusive(() => this.writeSnapshotNow(snapshot));
  }

  private async writeSnapshotNow(snapshot: EngineSnapshot): Promise<string> {
    const part = snapshot.log as FileSnapshotPart;
    const contents: SnapshotContents = {
      position: snapshot.position,
      logEnd: part.logEnd,
      ...(part.lastRecord ? { lastRecord: part.lastRecord } : {}),
      segmentBases: part.segmentBases,
      streams: part.streams.table ? part.streams : withNameTable(part.streams),
      sparseOffsets: part.sparseOffsets,
      projections: snapshot.projections,
      createdAt: snapshot.createdAt,
    };
    // Refused before the disk is asked: the read-only file layer's refusal (EROFS) must never fail-stop a read-only store.
    if (this.readOnly) throw new ReadOnlyStoreError(this.directory);
    // A store that fail-stopped writes nothing more (a batch that was being written when a scavenge failed can still make one fall due).
    if (this.writer.failure) throw this.writer.failure;
    // In 'flush' mode the covered events may not be on disk yet; a snapshot must never outlive its log.
    if (this.settings.durability !== 'fsync') {
      await this.log.sync().catch((error: unknown) => {
        throw this.writer.failStop(error, 'fsync of the log before a snapshot');
      });
    }
    try {
      if (!contents.lastRecord) {
        const segment = this.index.segmentOf(contents.position);
        await recordLastRecord(contents, segment, this.log.segments[segment].durableSize, (i, offset, length) => this.log.read(i, offset, length));
      }
      return await writeSnapshot(this.failStopping('disk call of a snapshot write'), this.directory, contents, this.settings.keepSnapshots);
    } catch (error) {
      throw asStorageError(error, `Could not write a snapshot of ${this.directory}`);
    }
  }

  async readCheckpoint(name: string): Promise<StoredCheckpoint | null> {
    const stored = await readCheckpoint(this.fs, this.directory, name);
    return stored && 'damaged' in stored ? { damaged: stored.damaged, where: checkpointFile(name) } : stored;
  }

  async writeCheckpoint(name: string, position: number): Promise<void> {
    if (this.readOnly) throw new ReadOnlyStoreError(this.directory);
    // As for a snapshot: a store that fail-stopped touches the disk no more, and a failed disk call of this write stops it.
    if (this.writer.failure) throw this.writer.failure;
    await writeCheckpoint(this.failStopping(`disk call of the checkpoint write of subscription ${JSON.stringify(name)}`), this.directory, name, position);
  }

  /**
   * The file layer for the writes beside the appends (snapshots, subscription
   * checkpoints; a scavenge builds its own the same way): a disk call that
   * changes the disk and fails fail-stops the store (StoreFailedError), as a
   * failed append does. A snapshot or checkpoint is not needed for any
   * acknowledged event, but after a failed fsync the kernel may have dropped
   * pages it could not write and a later fsync may report success without
   * them: the store trusts the disk no more until it is reopened.
   */
  private failStopping(doing: string): FileSystem {
    let fs = this.failStoppingFs.get(doing);
    if (!fs) this.failStoppingFs.set(doing, (fs = failStopFileSystem(this.fs, (error) => this.writer.failStop(error, doing), () => this.writer.failure)));
    return fs;
  }

  /** One per kind of write, kept: `ensureDir` remembers the directories it made durable per file layer (a fresh one would fsync their parents again each time). */
  private readonly failStoppingFs = new Map<string, FileSystem>();

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
    // Not while a scavenge puts a rewritten segment in place: the copy would mix two files.
    return this.exclusive(() =>
      typedBackup(target, backupStore(this.fs, this.directory, this.baseFs, target, () => {
        // The published end, not the writer's: a batch being written is not in the index yet.
        const bases = this.index.segmentBases;
        return {
          position: this.lastPosition,
          segments: bases.map((_, i) => ({ name: this.log.segments[i].name, bytes: i === bases.length - 1 ? this.index.endOffset : this.log.segments[i].durableSize })),
        };
      })),
    );
  }

  close(finishing?: Promise<unknown>): Promise<void> {
    this.closingDone ??= this.closeOnce(finishing);
    return this.closingDone;
  }

  async abandon(): Promise<void> {
    this.closing = true;
    this.closed = true;
    clearInterval(this.lockWatch);
    await this.log.close().catch(() => undefined);
    await this.lock.release({ clean: false }).catch(() => undefined);
  }

  private async closeOnce(finishing: Promise<unknown> | undefined): Promise<void> {
    this.closing = true;
    clearInterval(this.lockWatch);
    try {
      await this.writer.drain();
      await finishing;
      await this.scavenging?.catch(() => undefined);
      const health = await this.verification;
      await this.refreshing?.catch(() => undefined);
      // A log found damaged under its snapshot is not closed cleanly: the next open checks it again.
      if (!this.writer.failure && !this.readOnly && !this.lockLost && !health.problem) {
        if (this.settings.durability !== 'fsync') await this.log.sync();
        await writeCleanMarker(this.fs, this.directory, this.lastPosition);
      }
    } catch (error) {
      // The store still closes (files, lock) so it can be reopened; the next open recovers as after a crash.
      throw asStorageError(error, `Could not close the store in ${this.directory} cleanly`);
    } finally {
      this.closed = true;
      this.wakeWaiters();
      try {
        await this.log.close();
      } finally {
        await this.lock.release();
      }
    }
  }

  /** Starts the check of the segments the open skipped thanks to a snapshot. */
  private verifyInBackground(covered: CoveredLog, onCorruption: ((error: CorruptionError) => void) | undefined): void {
    this.healthNow = Object.freeze({ log: 'verifying', problem: null });
    this.verification = verifyCoveredLogAside(this.fs, this.baseFs, this.directory, covered, this.readOnly, () => this.closing).then(
      (problem) => {
        this.healthNow = Object.freeze(problem ? { log: 'damaged', problem } : { log: 'verified', problem: null });
        if (problem) onCorruption?.(problem);
        return this.healthNow;
      },
      () => {
        this.healthNow = Object.freeze({ log: 'unverified', problem: null });
        return this.healthNow;
      },
    );
  }

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

/** What refused an append, typed. */
function asEventfoldError(error: unknown): EventfoldError {
  return error instanceof EventfoldError ? error : new EventfoldError(String((error as Error)?.message ?? error), { cause: error });
}

/** A backup's disk errors as StorageError (its own refusals are already typed). */
function typedBackup<T>(dest: string, backup: Promise<T>): Promise<T> {
  return backup.catch((error: unknown) => {
    throw asStorageError(error, `Could not back up to ${dest}`);
  });
}
