/**
 * What a log reports of its open, a backup and a scavenge: the same shapes for
 * every log behind the EventLog interface (src/engine/event-log.ts), so they
 * live beside the public API rather than in one log's folder.
 */

/** What `open` found and did; available as `store.recovery`. */
export interface RecoveryReport {
  /** True when the previous close was clean (the CLEAN marker was present). */
  cleanShutdown: boolean;
  /**
   * Pid of the previous owner if it ended without closing the store (it died;
   * the kernel released its lock): its LOCK note was still there.
   */
  staleLockOwner: number | null;
  segmentsScanned: number;
  /** Durable events found in the log. */
  eventsRecovered: number;
  /** Global position of the last event, -1 for an empty store. */
  lastPosition: number;
  /** The damaged or torn last write cut off the last segment after a crash (it may have been acknowledged: a crash leaves no way to tell; `reason` says so). */
  tornTail: {
    file: string;
    offset: number;
    bytesTruncated: number;
    /** Events of the cut write: those after the last complete append, through the highest position any surviving record header names. */
    eventsDiscarded: number;
    /** Why this was the torn last write and not corruption. */
    reason: string;
  } | null;
  /**
   * Writes this process rejected (their write or fsync failed, and so did
   * cutting them back) that this open cut before reading the log, so a
   * rejected append never comes back in the process that rejected it.
   */
  rejectedWrites: Array<{ file: string; offset: number; bytesCut: number }>;
  /**
   * What `repair: 'truncate'` set aside — by this open, or by an earlier one
   * that a crash interrupted and this open finished (`resumedAfterCrash`).
   */
  quarantine: {
    files: string[];
    cutFile: string;
    cutOffset: number;
    bytes: number;
    records: number;
    reason: string;
    /** The log's last position after the cut (-1: nothing kept). */
    lastPosition: number;
    /** Snapshots that covered cut events, moved into quarantine/. */
    snapshotsSetAside: Array<{ file: string; movedTo: string; position: number }>;
    /** Subscription checkpoints past the cut, reset to `lastPosition`. */
    checkpointsReset: Array<{ name: string; from: number; to: number }>;
    resumedAfterCrash: boolean;
  } | null;
  /**
   * Subscription checkpoints this open found past the log's end and reset to
   * its last position (the positions after it belong to new events), and
   * checkpoint files it could not read (their `subscribe` fails until told
   * where to resume). Resets made by a repair are in `quarantine`.
   */
  checkpoints: { reset: Array<{ name: string; from: number; to: number }>; damaged: Array<{ name: string; reason: string }> };
  /** Leftovers of interrupted operations that were removed (temp files, an incomplete new segment). */
  removedFiles: string[];
  /** The snapshot the open started from, or why it replayed the whole log. */
  snapshot: {
    /** File used (relative to the store directory), null for a full replay. */
    used: string | null;
    /** Last position that snapshot covers. */
    position: number | null;
    /** Newer snapshots passed over because they failed their checks, and why. */
    skipped: Array<{ file: string; reason: string }>;
    /** Why a snapshot that was there could not be used (corrupt, projection version changed), if so. */
    fullReplayReason: string | null;
  };
  /** Events read from the log by this open (all of them without a snapshot, the tail after it otherwise). */
  eventsReplayed: number;
  /**
   * How the log before the snapshot was checked: 'checked by this open'
   * (`verifyOnOpen: 'full'`), 'checked in the background' after the open
   * returned (see `store.health`), null when no snapshot was used (the open
   * read and checked the whole log).
   */
  coveredLog: 'checked by this open' | 'checked in the background' | null;
  /** How long recovery took, in milliseconds. */
  durationMs: number;
}

/** What `store.backup(dest)` copied. */
export interface BackupResult {
  /** The backup's directory. */
  directory: string;
  /** Last global position the backup holds: every event up to it, none after. */
  position: number;
  segments: number;
  /** The snapshot copied along (relative path), null when there was none at or before `position`. */
  snapshot: string | null;
  /** Subscriptions whose checkpoints were copied. */
  subscriptions: string[];
  bytes: number;
  durationMs: number;
}

/**
 * How far a scavenge got. The file log goes segment by segment: `segments*`
 * count its sealed segments and `bytes*` the log bytes of those done, before
 * and after. The PostgreSQL log goes stream by stream: `segments*` count the
 * streams that have retention settings or a deletion, and `bytes*` are the
 * events table's size (pg_total_relation_size) before, and after its VACUUM
 * (see src/postgres/SCHEMA.md, "Scavenge").
 */
export interface ScavengeProgress {
  segmentsDone: number;
  segmentsTotal: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Events taken off the storage so far. */
  eventsRemoved: number;
}

/** What `store.scavenge()` removed. */
export interface ScavengeResult extends ScavengeProgress {
  /** Segments rewritten (the others had nothing to remove); PostgreSQL: streams that lost events. */
  segmentsRewritten: number;
  /** Spans overwritten with zeros in `quarantine/`: records of removed events, and runs of bytes not provably a kept event's record (see lifecycle/scrub-quarantine.ts). */
  quarantinedRecordsZeroed: number;
  /** The file log: `$metadata` records of `$lifecycle` that nothing reads any more, erased in place (see Engine.redacted). */
  metadataRecordsErased?: number;
  durationMs: number;
}
