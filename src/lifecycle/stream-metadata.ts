import { InvalidInputError, ReservedStreamNameError } from '../errors';
import { copyPlainData } from '../validate/plain-data';
import { formatValueForMessage, validateName } from '../validate/validate-input';

/**
 * Stream metadata: how long a stream keeps its events, and the application's
 * own settings for it. Stored durably in the log itself, as events of the
 * system stream SYSTEM_STREAM (see LifecycleChange), and honoured by every
 * read: an event outside its stream's retention is no longer returned by
 * `readStream`, `readAll`, subscriptions or `aggregateStream` (its bytes
 * stay on disk until a scavenge).
 */
export interface StreamMetadata {
  /** Keep only the stream's last `maxCount` events (a whole number >= 1). */
  maxCount?: number;
  /** Keep only events younger than this many milliseconds (a whole number >= 1), by their timestamp. */
  maxAge?: number;
  /** Remove the events below this version (a whole number >= 0). */
  truncateBefore?: number;
  /** The application's own data about the stream (plain data, as event data). */
  custom?: unknown;
}

/** Stream names starting with this are the store's own. */
export const RESERVED_PREFIX = '$';
/** The system stream that holds every metadata change and deletion, in order. */
export const SYSTEM_STREAM = '$lifecycle';
export const METADATA_SET = '$metadata';
export const STREAM_DELETED = '$deleted';
/** What a scavenge leaves of a `$metadata` record it erases (see Engine.redacted). */
export const RECORD_ERASED = '$erased';

export function isSystemStream(stream: string): boolean {
  return stream.startsWith(RESERVED_PREFIX);
}

/** A stream name an application may use: a valid name that does not start with RESERVED_PREFIX. */
export function validateStreamName(stream: unknown): string {
  const name = validateName(stream, 'stream name');
  if (isSystemStream(name)) throw new ReservedStreamNameError(name);
  return name;
}

const METADATA_KEYS = ['maxCount', 'maxAge', 'truncateBefore', 'custom'];

/** The store's own checked copy of metadata given to `setStreamMetadata`. */
export function validateMetadata(value: unknown, maxBytes: number): StreamMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`stream metadata must be an object, got ${formatValueForMessage(value)}`);
  }
  const unknown = Object.keys(value).find((key) => !METADATA_KEYS.includes(key));
  if (unknown !== undefined) throw new InvalidInputError(`stream metadata has an unknown key ${JSON.stringify(unknown)}; it has only ${METADATA_KEYS.join(', ')}`);
  const given = value as Record<string, unknown>;
  const metadata: StreamMetadata = {};
  const whole = (key: 'maxCount' | 'maxAge' | 'truncateBefore', min: number) => {
    const v = given[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidInputError(`stream metadata ${key} must be a whole number >= ${min}, got ${formatValueForMessage(v)}`);
    metadata[key] = v;
  };
  whole('maxCount', 1);
  whole('maxAge', 1);
  whole('truncateBefore', 0);
  if (given.custom !== undefined) metadata.custom = copyPlainData(given.custom, 'stream metadata custom', maxBytes, maxBytes);
  return metadata;
}

/**
 * A copy of stored metadata for the caller, which may change it freely: its
 * `custom` data copied by the data model's own walk, so every value reads
 * back as the same type as event data does (a Buffer stays a Buffer, which
 * `structuredClone` would turn into a Uint8Array).
 */
export function copyMetadata(metadata: StreamMetadata): StreamMetadata {
  const copy: StreamMetadata = { ...metadata };
  if ('custom' in metadata) copy.custom = copyPlainData(metadata.custom, 'stream metadata custom', Infinity);
  return copy;
}

/** What one event of SYSTEM_STREAM says (its `data`). */
export type LifecycleChange =
  | { stream: string; metadata: StreamMetadata }
  /** A deletion. Soft: the versions below `truncateBefore` (the stream's next version when it was deleted) are removed. */
  | { stream: string; deleted: 'soft' | 'hard'; truncateBefore: number }
  /** A scavenge started (and sealed the segment being appended to, so this event opens a new one). */
  | { scavengeStarted: string }
  /**
   * A scavenge on PostgreSQL ended its deletions (`deletions`: the removals
   * count after them, see src/postgres/SCHEMA.md): other processes rebuild
   * their projections. It changes nothing.
   */
  | { scavengeFinished: string; deletions: number }
  /** A record a scavenge erased (`erased`: its type then): a superseded `$metadata`, or one of a stream deleted for good. It changes nothing. */
  | { erased: string };

export const SCAVENGE_STARTED = '$scavenge';
export const SCAVENGE_FINISHED = '$scavenged';

/**
 * The change an event of SYSTEM_STREAM records, or null when the event is
 * not a lifecycle record the store wrote (wrong type or shape — only an
 * earlier version writing into this store could have put it there).
 */
export function readLifecycleChange(event: { type: string; data: unknown }): LifecycleChange | null {
  const data = event.data as Record<string, unknown> | null;
  if (typeof data !== 'object' || data === null) return null;
  // The start of a scavenge names no stream: it marks where what follows begins (see lifecycle/scavenge.ts).
  if (event.type === SCAVENGE_STARTED) return typeof data.scavengeStarted === 'string' ? { scavengeStarted: data.scavengeStarted } : null;
  if (event.type === SCAVENGE_FINISHED) {
    return typeof data.scavengeFinished === 'string' && Number.isSafeInteger(data.deletions) ? { scavengeFinished: data.scavengeFinished, deletions: data.deletions as number } : null;
  }
  if (event.type === RECORD_ERASED) return typeof data.erased === 'string' ? { erased: data.erased } : null;
  if (typeof data.stream !== 'string') return null;
  if (event.type === METADATA_SET) {
    return typeof data.metadata === 'object' && data.metadata !== null && !Array.isArray(data.metadata) ? (data as unknown as LifecycleChange) : null;
  }
  if (event.type === STREAM_DELETED) {
    const deletion = (data.deleted === 'soft' || data.deleted === 'hard') && typeof data.truncateBefore === 'number' && Number.isSafeInteger(data.truncateBefore);
    return deletion ? (data as unknown as LifecycleChange) : null;
  }
  return null;
}

export function changeAsEvent(change: LifecycleChange): { type: string; data: LifecycleChange } {
  if ('scavengeStarted' in change) return { type: SCAVENGE_STARTED, data: change };
  if ('scavengeFinished' in change) return { type: SCAVENGE_FINISHED, data: change };
  if ('erased' in change) return { type: RECORD_ERASED, data: change };
  return { type: 'metadata' in change ? METADATA_SET : STREAM_DELETED, data: change };
}

/** Which of a stream's events reads return now. */
export interface Retention {
  /** The stream was deleted for good: nothing. */
  hidden: boolean;
  /** First version kept. */
  fromVersion: number;
  /** Oldest timestamp kept (-Infinity: any). */
  minTimestamp: number;
}

export const KEEP_EVERYTHING: Retention = { hidden: false, fromVersion: 0, minTimestamp: -Infinity };

interface StreamLife {
  metadata: StreamMetadata;
  /** Version in SYSTEM_STREAM of the `$metadata` record `metadata` comes from (-1: none). */
  metadataVersion: number;
  /** Versions below this were removed by a soft delete. */
  deletedBefore: number;
  softDeleted: boolean;
  hardDeleted: boolean;
  /** Version in SYSTEM_STREAM of the last change applied to it. */
  changedAt: number;
}

/** What `store.retentionReport()` and `eventfold info` show. */
export interface RetentionReport {
  streams: Array<{
    stream: string;
    metadata: StreamMetadata;
    /** How it was last deleted, null when it never was. */
    deleted: 'soft' | 'hard' | null;
    /** Its last version (-1: no events). */
    lastVersion: number;
    /** Events that reads no longer return, still on disk until a scavenge. */
    removedEvents: number;
    /** Log bytes they take. */
    removedBytes: number;
  }>;
  removedEvents: number;
  /** Log bytes of every removed event: what a scavenge would give back. */
  reclaimableBytes: number;
}

/**
 * The metadata and deletions of every stream that has any, as SYSTEM_STREAM
 * says once its events are durable; memory grows with the number of such
 * streams, never with the number of events.
 */
export class StreamLifecycles {
  private readonly streams = new Map<string, StreamLife>();
  /** Hard deletes accepted but not yet durable: appends to those streams are refused already. */
  private readonly hardDeleting = new Set<string>();
  /** Version of SYSTEM_STREAM applied so far. */
  appliedVersion = -1;
  /** The streams whose metadata has a `maxAge` (and that are not deleted for good). */
  readonly ageLimited = new Set<string>();

  apply(change: LifecycleChange, version: number): void {
    if (version <= this.appliedVersion) return;
    this.appliedVersion = version;
    if (!('stream' in change)) return;
    const life = this.streams.get(change.stream) ?? { metadata: {}, metadataVersion: -1, deletedBefore: 0, softDeleted: false, hardDeleted: false, changedAt: version };
    life.changedAt = version;
    if ('metadata' in change) {
      life.metadata = change.metadata;
      life.metadataVersion = version;
    } else {
      life.deletedBefore = Math.max(life.deletedBefore, change.truncateBefore);
      // Deleted for good: its metadata is gone too (a scavenge erases its `$metadata` records).
      if (change.deleted === 'hard') {
        life.hardDeleted = true;
        life.metadata = {};
      } else life.softDeleted = true;
      this.hardDeleting.delete(change.stream);
    }
    this.streams.set(change.stream, life);
    if (life.metadata.maxAge !== undefined && !life.hardDeleted) this.ageLimited.add(change.stream);
    else this.ageLimited.delete(change.stream);
  }

  /** True when a change of `stream`'s lifecycle was applied after `version` of SYSTEM_STREAM. */
  changedSince(stream: string, version: number): boolean {
    return (this.streams.get(stream)?.changedAt ?? -1) > version;
  }

  markHardDeleting(stream: string): void {
    this.hardDeleting.add(stream);
  }

  /** The hard delete marked was refused (not written). */
  unmarkHardDeleting(stream: string): void {
    this.hardDeleting.delete(stream);
  }

  /** Deleted for good, or about to be. */
  isHardDeleted(stream: string): boolean {
    return this.hardDeleting.has(stream) || this.streams.get(stream)?.hardDeleted === true;
  }

  /** Deleted for good by a durable deletion (what reads go by). */
  isDurablyHardDeleted(stream: string): boolean {
    return this.streams.get(stream)?.hardDeleted === true;
  }

  metadata(stream: string): StreamMetadata {
    return this.streams.get(stream)?.metadata ?? {};
  }

  /**
   * True for the `$metadata` record of `stream` at `version` of SYSTEM_STREAM
   * once nothing reads it any more: a later one replaced it, or the stream
   * was deleted for good. A scavenge erases such records (see Engine.redacted).
   */
  metadataRecordErasable(stream: string, version: number): boolean {
    const life = this.streams.get(stream);
    return life !== undefined && (life.hardDeleted || life.metadataVersion > version);
  }

  /** Streams with metadata or deletions, for `info`. */
  entries(): Array<[string, Readonly<StreamLife>]> {
    return [...this.streams];
  }

  /** Which events of `stream`, whose last durable version is `lastVersion`, reads return at `now`. */
  retention(stream: string, lastVersionOf: (stream: string) => number, now: number): Retention {
    if (isSystemStream(stream)) return { hidden: true, fromVersion: 0, minTimestamp: -Infinity };
    const life = this.streams.get(stream);
    if (!life) return KEEP_EVERYTHING;
    if (life.hardDeleted) return { hidden: true, fromVersion: 0, minTimestamp: -Infinity };
    const { maxCount, maxAge, truncateBefore } = life.metadata;
    const fromVersion = Math.max(life.deletedBefore, truncateBefore ?? 0, maxCount !== undefined ? lastVersionOf(stream) - maxCount + 1 : 0);
    return { hidden: false, fromVersion, minTimestamp: maxAge !== undefined ? now - maxAge : -Infinity };
  }
}

/** Whether reads return `event` under `retention`. */
export function keeps(retention: Retention, event: { version: number; timestamp: number }): boolean {
  return !retention.hidden && event.version >= retention.fromVersion && event.timestamp >= retention.minTimestamp;
}

/**
 * The streams whose events reads return now, from each stream's last
 * version: never the store's own, never one deleted for good, nor one whose
 * retention removes every event (a soft-deleted stream with nothing after,
 * and, as `holdsKeptEvent` says, one whose every event is older than its
 * `maxAge`). `store.streams()` and the CLI's `info` count the same way.
 */
export function streamsReadsReturn(
  heads: Iterable<readonly [string, number]>,
  lifecycles: StreamLifecycles,
  now: number,
  holdsKeptEvent: (stream: string, retention: Retention) => boolean,
): string[] {
  const names: string[] = [];
  for (const [name, lastVersion] of heads) {
    if (lastVersion < 0 || isSystemStream(name)) continue;
    const retention = lifecycles.retention(name, () => lastVersion, now);
    if (retention.hidden || lastVersion < retention.fromVersion) continue;
    if (retention.minTimestamp !== -Infinity && !holdsKeptEvent(name, retention)) continue;
    names.push(name);
  }
  return names;
}
