import type { LogReplay } from '../engine/event-log';
import { asStorageError, CorruptionError, EventfoldError, InvalidInputError, StoreNotFoundError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { readOnlyFileSystem, refusingHandle } from '../fs/read-only-file-system';
import { SegmentedLog, type Segment } from '../log/segmented-log';
import { StreamIndex } from '../log/stream-index';
import { cutRejectedWrites } from '../log/rejected-writes';
import { readCleanMarker } from '../recovery/clean-marker';
import { CLEAN_MARKER, logDirOf, snapshotFile } from '../store-layout';
import { acquireLock, type HeldLock } from '../recovery/lock';
import { finishInterruptedRepair, refuseUnfinishedRepair } from '../recovery/quarantine';
import type { RecoveryReport } from '../log-reports';
import { scanLog, type ScanOptions } from '../recovery/scan-log';
import { syncStoreDirectories } from '../recovery/sync-store-directories';
import { verifyCoveredLog, type CoveredLog } from '../recovery/verify-covered';
import { listCheckpoints, resetCheckpointsBeyond } from '../snapshot/checkpoint-file';
import { snapshotName, type SnapshotContents } from '../snapshot/snapshot-file';
import { checkHeadsWhileScanning, type SnapshotHeads } from '../snapshot/snapshot-heads';
import { decodeEverySnapshot, loadNewestSnapshot, quarantineSnapshots, quarantineSnapshotsBeyond, snapshotRemoved } from '../snapshot/snapshots';
import type { OpenArguments } from '../validate/options';
import { prepareDirectory } from '../validate/store-directory';
import { FileLog } from './file-log';
import { checkSystemStreams } from './system-streams-marker';

/**
 * A read-only open found damage where the snapshot it started from told it
 * to read, and that snapshot is gone since: the writer removed it meanwhile
 * — a scavenge removes every snapshot before it puts its first rewritten
 * segment in place, and the offsets the snapshot recorded no longer name
 * the records there. Nothing says events are lost: the open starts over
 * (see openFileLogBesideWriter). `found`: what the stale offsets led to.
 */
export class SnapshotRemovedMeanwhile extends EventfoldError {
  constructor(
    readonly snapshot: string,
    readonly found: CorruptionError,
  ) {
    super(`${snapshot} was removed while a read-only open read the log after it (${found.message})`);
  }
}

/**
 * openFileLog, started over with fresh projection states (`makeReplay`)
 * when a read-only open meets SnapshotRemovedMeanwhile: once more as usual
 * (the writer's newest snapshot, or none), and a third time without any
 * snapshot — a full scan, which a scavenge cannot make stale — so it ends.
 * Real damage fails every attempt: a start over never hides it.
 */
export async function openFileLogBesideWriter<R extends LogReplay>(checked: OpenArguments, makeReplay: () => R): Promise<{ log: FileLog; replay: R }> {
  for (let attempt = 1; ; attempt++) {
    const replay = makeReplay();
    try {
      return { log: await openFileLog(checked, replay, { useSnapshots: attempt < 3 }), replay };
    } catch (error) {
      if (!(error instanceof SnapshotRemovedMeanwhile)) throw error;
    }
  }
}

/**
 * Opens (creating if needed) the file log in `checked.directory`, recovering
 * from any crash: lock → finish an interrupted repair → newest valid
 * snapshot → replay the tail (CRC checked) → cut only an unacknowledged tail
 * or fail loudly on real corruption → report. The engine's projections are
 * restored and replayed through `replay`. `checked`: the open's arguments,
 * already checked (validate/options.ts), so nothing was touched on disk yet.
 * `useSnapshots: false` reads the whole log (see openFileLogBesideWriter).
 */
export async function openFileLog(checked: OpenArguments, replay: LogReplay, { useSnapshots = true } = {}): Promise<FileLog> {
  const started = performance.now();
  const { directory, settings, readOnly } = checked;
  const baseFs = checked.fs;
  const fs = readOnly ? readOnlyFileSystem(baseFs) : baseFs;
  const lock = await takeOwnership(fs, checked);
  /** The segments the scan found: a read-only open's hold the handles the scan read (closed here if the open fails after it). */
  let scanned: Segment[] = [];
  /** The snapshot the open started from, once chosen. */
  let startedFrom: ScanStart['usedName'];
  try {
    // Whatever an earlier process or failed open left unsynced is made durable before this open builds on it.
    if (!readOnly) await syncStoreDirectories(fs, directory);
    // Writes this process rejected but could not cut back are cut before the log is read.
    const rejectedWrites = readOnly ? [] : await cutRejectedWrites(fs, logDirOf(directory));
    const clean = await readCleanMarker(fs, directory);
    const index = new StreamIndex();
    const repairing = checked.repair === 'truncate';
    // Before anything else: a repair a crash interrupted is finished exactly as it was planned (a read-only open refuses to read around one).
    const finishedRepair = readOnly ? await refuseUnfinishedRepair(fs, directory) : await finishInterruptedRepair(fs, directory, repairing);
    const start = await startFromSnapshot(fs, checked, index, replay, useSnapshots);
    const { snapshot } = start;
    startedFrom = start.usedName;
    let covered = start.covered;
    // A repair reads the whole log: every snapshot is checked against it on the way (see setAsideUntrueSnapshots).
    const heads = checkHeadsWhileScanning(repairing ? await snapshotsToCheck(fs, directory) : [], index);
    const scan = await scanLog(fs, directory, index, {
      repair: checked.repair,
      readOnly,
      onCommit: replay.foldsEvents ? (events) => replay.replay(events) : undefined,
      onDurable: repairing ? heads.onDurable : undefined,
      resumeAt: start.resumeAt,
      keepReaders: readOnly,
      // A repair that a crash interrupted (finished just now) cut the log on purpose: it ends at the repair's last position, not the marker's.
      cleanPosition: clean.marker && finishedRepair ? finishedRepair.lastPosition : clean.marker?.position,
    });
    scanned = scan.segments;
    replay.finishReplay();
    // Before anything is changed (the clean-shutdown marker, snapshots) and before the engine reads "$lifecycle":
    // an earlier version's "$" streams are refused, never misread.
    await checkSystemStreams(fs, directory, index, readOnly);
    if (covered && checked.verifyOnOpen === 'full') {
      const problem = await verifyCoveredLog(fs, directory, covered);
      if (problem) throw problem;
      covered = undefined;
    }
    const quarantine = scan.quarantine ?? finishedRepair;
    const checkpoints = await settlePastTheEnd(fs, checked, index, snapshot, quarantine);
    if (repairing) snapshot.skipped.push(...(await setAsideUntrueSnapshots(fs, directory, heads.problems)));
    if (clean.present && !readOnly) {
      // From here on a crash must not look like a clean shutdown.
      await fs.unlink(`${directory}/${CLEAN_MARKER}`);
      await fs.syncDir(directory);
    }
    const log = readOnly
      ? new SegmentedLog(fs, logDirOf(directory), scan.segments, refusingHandle('a read-only store has no writer'), settings.segmentSize)
      : await SegmentedLog.openExisting(fs, logDirOf(directory), scan.segments, settings.segmentSize, settings.durability === 'fsync' ? 'durable-writes' : 'write');
    const recovery: RecoveryReport = {
      cleanShutdown: clean.marker !== undefined,
      staleLockOwner: lock.previousOwner?.pid ?? null,
      segmentsScanned: scan.segmentsScanned,
      eventsRecovered: index.durableCount,
      lastPosition: index.durableCount - 1,
      tornTail: scan.tornTail,
      rejectedWrites,
      quarantine,
      checkpoints,
      removedFiles: [...start.removedFiles, ...scan.removedFiles],
      snapshot,
      eventsReplayed: index.durableCount - (snapshot.position ?? -1) - 1,
      coveredLog: covered ? 'checked in the background' : snapshot.used ? 'checked by this open' : null,
      durationMs: 0,
    };
    recovery.durationMs = performance.now() - started;
    const fileLog = new FileLog({ directory, fs, baseFs, log, index, lock, settings, recovery, readOnly, covered, onCorruption: checked.onCorruption });
    if (readOnly) await fileLog.pinSegments();
    return fileLog;
  } catch (error) {
    for (const segment of scanned) await segment.reader?.close().catch(() => undefined);
    await lock.release({ clean: false }).catch(() => undefined);
    // Only a read-only open runs beside a writer; checked after the damage was found (the writer removes the snapshot first).
    if (readOnly && startedFrom && error instanceof CorruptionError && (await snapshotRemoved(fs, directory, startedFrom).catch(() => false))) {
      throw new SnapshotRemovedMeanwhile(startedFrom, error);
    }
    throw asStorageError(error, `Could not open the store in ${directory}`);
  }
}

/**
 * A writable open makes the directory and takes the store's lock; a
 * read-only one takes none (it changes nothing) and needs the store to exist.
 */
async function takeOwnership(fs: FileSystem, checked: OpenArguments): Promise<HeldLock> {
  const { directory } = checked;
  if (checked.readOnly) {
    if (checked.repair === 'truncate') throw new InvalidInputError("a read-only store cannot repair: open it without readOnly to use repair: 'truncate'");
    if (!(await fs.exists(logDirOf(directory)))) throw new StoreNotFoundError(directory);
    return { previousOwner: null, verify: async () => 'held' as const, release: async () => undefined };
  }
  await prepareDirectory(fs, directory);
  try {
    return await acquireLock(fs, directory);
  } catch (error) {
    throw asStorageError(error, `Could not lock the store in ${directory}`);
  }
}

/**
 * Nothing past the recovered log's end is used: the snapshots a repair set
 * aside are reported skipped (and after a repair, any other past the end is
 * set aside too), checkpoints past the end are reset to it. Returns what the
 * recovery report says of the checkpoints (those reset, and those damaged).
 */
async function settlePastTheEnd(fs: FileSystem, checked: OpenArguments, index: StreamIndex, snapshot: RecoveryReport['snapshot'], quarantine: RecoveryReport['quarantine']): Promise<RecoveryReport['checkpoints']> {
  const { directory, readOnly } = checked;
  for (const moved of quarantine?.snapshotsSetAside ?? []) {
    snapshot.skipped.push({ file: moved.file, reason: `covers position ${moved.position}, past the repaired log's end at ${quarantine!.lastPosition}: moved to ${moved.movedTo}` });
  }
  if (checked.repair === 'truncate') {
    // Whatever a repair found, no snapshot past the repaired end may survive it (a damaged repair record is redone this way).
    snapshot.skipped.push(...(await quarantineSnapshotsBeyond(fs, directory, index.durableCount - 1)));
  }
  return {
    reset: await resetCheckpointsBeyond(fs, directory, index.durableCount - 1, readOnly),
    damaged: (await listCheckpoints(fs, directory)).flatMap((c) => ('damaged' in c ? [{ name: c.name, reason: c.damaged }] : [])),
  };
}

/** Every snapshot that decodes, with its file, as snapshot-heads.ts checks them. */
async function snapshotsToCheck(fs: FileSystem, directory: string): Promise<SnapshotHeads[]> {
  return (await decodeEverySnapshot(fs, directory)).map(({ name, contents }) => ({ ...contents, snapshot: snapshotFile(name) }));
}

/**
 * A repair moves into `quarantine/` every snapshot whose stream heads, name
 * table or sparse offsets its scan of the log found untrue (rewritten with
 * its CRC recomputed: the background check reports such a snapshot as
 * damage, and an open would otherwise use it again): the next open starts
 * from an older one, or replays the whole log.
 */
async function setAsideUntrueSnapshots(fs: FileSystem, directory: string, problems: ReadonlyMap<string, CorruptionError>): Promise<Array<{ file: string; reason: string }>> {
  const untrue = [...problems].map(([file, problem]) => ({ name: file.slice(file.lastIndexOf('/') + 1), why: `does not match the log: ${problem.reason}` }));
  return quarantineSnapshots(fs, directory, untrue);
}

/** Where the scan starts: after the newest snapshot that passed its checks and that the projections can use, or at the log's start. */
interface ScanStart {
  /** What the recovery report says of snapshots (the open adds to `skipped` later). */
  snapshot: RecoveryReport['snapshot'];
  /** Where the scan resumes; undefined: from the start of the log. */
  resumeAt: ScanOptions['resumeAt'];
  /** The log the snapshot covers, which the scan does not read: checked by the open or in the background. */
  covered: CoveredLog | undefined;
  /** Temp files of snapshots a crash left, removed. */
  removedFiles: string[];
  /** The name of the snapshot it starts from, if any. */
  usedName?: string;
}

/**
 * Restores the index and the projections from the newest valid snapshot.
 * A repair reads the whole log, and a snapshot whose projection states do not
 * match the projections is not used (every projection is rebuilt).
 */
async function startFromSnapshot(fs: FileSystem, checked: OpenArguments, index: StreamIndex, replay: LogReplay, useSnapshots: boolean): Promise<ScanStart> {
  const repairing = checked.repair === 'truncate';
  if (!useSnapshots) {
    const reason = 'the writer removed the snapshots this open started from, twice while it read the log: it reads the whole log';
    return { snapshot: { used: null, position: null, skipped: [], fullReplayReason: reason }, resumeAt: undefined, covered: undefined, removedFiles: [] };
  }
  const snapshots = await loadNewestSnapshot(fs, checked.directory, { readOnly: checked.readOnly, checkLogEnd: !repairing });
  const start: ScanStart = {
    snapshot: { used: null, position: null, skipped: snapshots.skipped, fullReplayReason: null },
    resumeAt: undefined,
    covered: undefined,
    removedFiles: snapshots.removedFiles,
  };
  const { snapshot } = start;
  if (snapshots.chosen && repairing) {
    snapshot.fullReplayReason = 'repair reads the whole log';
  } else if (snapshots.chosen) {
    const { file, contents } = snapshots.chosen;
    const mismatch = replay.restoreSnapshot(contents.projections);
    if (mismatch) {
      snapshot.fullReplayReason = `${mismatch}: every projection is rebuilt from the log`;
    } else {
      seedIndex(index, contents);
      snapshot.used = file;
      start.usedName = snapshotName(contents.position);
      snapshot.position = contents.position;
      start.resumeAt = { snapshot: file, position: contents.position, ...contents.logEnd, segmentBases: contents.segmentBases };
      start.covered = { snapshot: file, position: contents.position, ...contents.logEnd, streams: contents.streams, sparseOffsets: contents.sparseOffsets };
    }
  } else if (snapshots.skipped.length > 0) {
    snapshot.fullReplayReason = 'no snapshot passed its checks';
  }
  return start;
}

/** Starts the index from a snapshot; the log scan then adds what came after it. */
function seedIndex(index: StreamIndex, contents: SnapshotContents): void {
  index.streams.seed(contents.streams);
  index.sparseOffsets.seed(contents.sparseOffsets);
  index.durableCount = contents.position + 1;
  index.endOffset = contents.logEnd.offset;
}
