/** What `open` found and did; available as `store.recovery`. */
export interface RecoveryReport {
  /** True when the previous close was clean (the CLEAN marker was present). */
  cleanShutdown: boolean;
  /** Pid of a dead process whose lock was taken over, if any. */
  staleLockOwner: number | null;
  segmentsScanned: number;
  /** Durable events found in the log. */
  eventsRecovered: number;
  /** Global position of the last event, -1 for an empty store. */
  lastPosition: number;
  /** A torn tail cut off the last segment (never acknowledged data). */
  tornTail: { file: string; offset: number; bytesTruncated: number; eventsDiscarded: number } | null;
  /** Bytes set aside by `repair: 'truncate'`. */
  quarantine: { files: string[]; cutFile: string; cutOffset: number; bytes: number; records: number; reason: string } | null;
  /** Leftovers of interrupted operations that were removed (temp files, an incomplete new segment). */
  removedFiles: string[];
  /** How long recovery took, in milliseconds. */
  durationMs: number;
}
