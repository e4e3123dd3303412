import { CorruptionError } from '../errors';
import { SPARSE_EVERY, type SparseOffsets, type StreamColumns, type StreamHead } from '../log/stream-index';
import { StreamNameTable } from '../log/stream-name-table';

/**
 * What a snapshot says of the log it covers (beside its projections): each
 * stream's head, the hash table over their names, and the sparse offsets.
 * Its CRC says only that these are the bytes a writer wrote; whether they are
 * the log's is checked here, against a scan of the log up to `position`.
 */
export interface SnapshotHeads {
  /** The snapshot's file inside the store (for messages). */
  snapshot: string;
  position: number;
  streams: StreamColumns;
  sparseOffsets: Uint32Array;
}

/** The log up to the snapshot's position, as a scan from position 0 rebuilt it. */
export interface ScannedLog {
  heads: Iterable<readonly [string, Pick<StreamHead, 'version' | 'position' | 'offset'>]>;
  sparseOffsets: SparseOffsets;
  /** True when `position` lies in a segment a scavenge rewrote. */
  inScavenged(position: number): boolean;
}

/** Rows between two pauses of the background check (a million streams must not hold the event loop for their whole check). */
const ROWS_PER_STEP = 1 << 16;

/** The snapshot's heads against the scanned log, at once: the CorruptionError naming the first difference, or null. */
export function snapshotHeadsProblemNow(snapshot: SnapshotHeads, log: ScannedLog): CorruptionError | null {
  const steps = compareHeads(snapshot, log);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** The same, pausing every ROWS_PER_STEP rows: `pause` resolves when the check may go on (it rejects to stop it). */
export async function snapshotHeadsProblem(snapshot: SnapshotHeads, log: ScannedLog, pause: () => Promise<void>): Promise<CorruptionError | null> {
  const steps = compareHeads(snapshot, log);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/**
 * What must be equal, and why nothing else is compared:
 *
 * 1. The hash table finds every row's name at that very row. Its shape was
 *    checked when the snapshot was decoded; this checks its hashes and
 *    places, and that no name repeats (a repeated name finds the other row).
 * 2. Every stream the scan holds is found through that table, with the same
 *    last version and position, and the same byte offset unless that event
 *    lies in a segment a scavenge rewrote (offsets into one are hints there:
 *    events are found by position, and the index a snapshot is taken from
 *    keeps the offsets from before the scavenge). A stream missing, or one
 *    whose head is earlier, would hide events; one whose head is later
 *    would name an event the log does not have there.
 * 3. A row the scan has no stream for is allowed only when its head lies in
 *    a segment a scavenge rewrote: a stream whose every event a deletion
 *    (or retention) removed stays in the live index that snapshots are taken
 *    from, but a scan finds none of its events. (A scavenge never removes a
 *    stream's last event and keeps an earlier one: it removes a stream's
 *    last event only when the stream is deleted, with all the others; see
 *    engine.ts, removedNow.) Such a row hides nothing: the log holds no
 *    event of that stream.
 * 4. The sparse offsets: one per SPARSE_EVERY positions up to the snapshot's
 *    position, each as the scan found it, except in segments a scavenge
 *    rewrote (a scan sets no offset there that readers use).
 *
 * Nothing else in a row exists: versions before the head are in the log's
 * own chain, which the scan checks link by link.
 */
function* compareHeads(snapshot: SnapshotHeads, log: ScannedLog): Generator<void, CorruptionError | null> {
  const { streams, position: last } = snapshot;
  const fail = (reason: string) => new CorruptionError({ file: snapshot.snapshot, offset: 0, reason: `the snapshot ${reason}` });
  let table: StreamNameTable;
  try {
    // Without a stored table (never, once decoded), the names are hashed: a repeated one throws.
    table = new StreamNameTable(streams.nameBytes, streams.nameEnds, streams.table);
  } catch (error) {
    return fail(`names a stream twice: ${(error as Error).message}`);
  }
  const name = (row: number) => JSON.stringify(table.nameOf(row));
  for (let row = 0; row < table.count; row++) {
    if (row % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    const found = table.findOwnName(row);
    if (found === row) continue;
    return fail(found < 0 ? `holds stream ${name(row)} (row ${row}), but its hash table does not find that name` : `names stream ${name(row)} twice (rows ${found} and ${row})`);
  }

  const matched = new Uint8Array(table.count);
  let seen = 0;
  for (const [stream, head] of log.heads) {
    if (++seen % ROWS_PER_STEP === 0) yield;
    if (head.version < 0) continue;
    const row = table.find(stream);
    if (row < 0) {
      return fail(`has no stream ${JSON.stringify(stream)}, but the log it covers holds that stream up to version ${head.version} (position ${head.position}): its events would be hidden`);
    }
    matched[row] = 1;
    const version = streams.versions[row];
    const position = streams.positions[row];
    const offset = streams.offsets[row];
    if (version !== head.version || position !== head.position || (offset !== head.offset && !log.inScavenged(head.position))) {
      return fail(
        `says stream ${JSON.stringify(stream)} ends at version ${version} (position ${position}, byte offset ${offset}), but the log it covers ends that stream at version ${head.version} (position ${head.position}, byte offset ${head.offset})`,
      );
    }
  }

  for (let row = 0; row < table.count; row++) {
    if (row % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    if (matched[row] === 1) continue;
    const version = streams.versions[row];
    const position = streams.positions[row];
    const removed = Number.isInteger(version) && version >= 0 && Number.isInteger(position) && position >= 0 && position <= last && log.inScavenged(position);
    if (!removed) return fail(`says stream ${name(row)} ends at version ${version} (position ${position}), but the log it covers holds no event of that stream`);
  }

  const count = Math.floor(last / SPARSE_EVERY) + 1;
  if (snapshot.sparseOffsets.length !== count) return fail(`holds ${snapshot.sparseOffsets.length} sparse offsets, where positions 0 to ${last} have ${count}`);
  for (let k = 0; k < count; k++) {
    if (k % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    const at = k * SPARSE_EVERY;
    if (log.inScavenged(at) || snapshot.sparseOffsets[k] === log.sparseOffsets.get(k)) continue;
    return fail(`says position ${at} starts at byte offset ${snapshot.sparseOffsets[k]} of its segment, but the log has it at byte offset ${log.sparseOffsets.get(k)}`);
  }
  return null;
}

/**
 * Checks `snapshots` during a scan of the log from position 0 into `index`
 * (pass `onDurable` to scanLog): each at the moment the scan has read the log
 * exactly up to its position. `problems` then holds, by snapshot file, what
 * each that differs from the log says; a snapshot whose position the scan
 * never reached is not checked.
 */
export function checkHeadsWhileScanning(
  snapshots: readonly SnapshotHeads[],
  index: { streams: ScannedLog['heads']; sparseOffsets: SparseOffsets },
): { onDurable: (lastPosition: number, inScavenged: (position: number) => boolean) => void; problems: Map<string, CorruptionError> } {
  const due = new Map<number, SnapshotHeads[]>();
  for (const snapshot of snapshots) due.set(snapshot.position, [...(due.get(snapshot.position) ?? []), snapshot]);
  const problems = new Map<string, CorruptionError>();
  const onDurable = (lastPosition: number, inScavenged: (position: number) => boolean) => {
    const now = due.get(lastPosition);
    if (!now) return;
    due.delete(lastPosition);
    for (const snapshot of now) {
      const problem = snapshotHeadsProblemNow(snapshot, { heads: index.streams, sparseOffsets: index.sparseOffsets, inScavenged });
      if (problem) problems.set(snapshot.snapshot, problem);
    }
  };
  return { onDurable, problems };
}
