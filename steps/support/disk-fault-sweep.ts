import type { DiskOperation, EventStore, Fault, PowerLossPolicy, SimulatedDisk } from '../../src/index';

/**
 * What the disk-fault sweeps share (a scavenge's, a snapshot's, a
 * checkpoint's, the clean-shutdown marker's): the disk calls of one piece of
 * work found on a clean run, a fault injected at each of them in turn on a
 * copy of the same disk, and power cuts after it and during the open that
 * follows.
 */

/** Every disk call that changes what is on the disk. */
export const CHANGING: DiskOperation[] = ['create', 'write', 'datasync', 'truncate', 'rename', 'unlink', 'syncDir'];

/** Power cuts after a failure: every unsynced write dropped, all kept, the last one torn in half, pages written back in any order. */
export const AFTER_FAILURE_POLICIES: PowerLossPolicy[] = ['drop-unsynced', 'keep-unsynced', { tearLastWriteFraction: 0.5 }, { pageSeed: 1 }];

/** One disk call that changes the disk, as a place for a fault: the call of `op` on `path` that follows `after` such calls on paths containing `path`. */
export interface FaultPoint {
  op: DiskOperation;
  path: string;
  after: number;
  /** How reports name it: its rank among the calls, the call and its path. */
  label: string;
}

/** The disk calls that change the disk made on `disk` while `work` runs, in order, each as a place for a fault. */
export async function faultPointsOf(disk: SimulatedDisk, work: () => Promise<unknown>): Promise<FaultPoint[]> {
  const trace: Array<{ op: DiskOperation; path: string }> = [];
  disk.trace = trace;
  try {
    await work();
  } finally {
    disk.trace = undefined;
  }
  const calls = trace.filter((call) => CHANGING.includes(call.op));
  return calls.map(({ op, path }, i) => ({
    op,
    path,
    // The disk matches a fault's path by "contains": the calls before it that the fault would count.
    after: calls.slice(0, i).filter((p) => p.op === op && p.path.includes(path)).length,
    label: `${i} (${op} ${path})`,
  }));
}

/** The fault that fails (or cuts the power at) exactly the call `point`. */
export function faultAt(point: FaultPoint, what: Pick<Fault, 'error' | 'powerLoss'>): Fault {
  return { op: point.op, path: point.path, after: point.after, ...what };
}

/** Calls that changed the disk so far. */
export function changingCalls(disk: SimulatedDisk): number {
  return CHANGING.reduce((sum, op) => sum + disk.calls[op], 0);
}

/** How a call ended (thrown at once or rejected): its error's name, or 'resolved'. */
export function outcome(call: () => Promise<unknown>): Promise<string> {
  return Promise.resolve()
    .then(call)
    .then(
      () => 'resolved',
      (error: Error) => error?.name ?? String(error),
    );
}

/**
 * The open (and close) of the store on `disk` cut by a power loss at each of
 * its disk calls that change the disk, in turn, each on a copy; `check` says
 * what is wrong with the disk the power came back to (`how` names the cut).
 */
export async function powerCutsDuringOpen(
  disk: SimulatedDisk,
  open: (disk: SimulatedDisk) => Promise<EventStore>,
  check: (disk: SimulatedDisk, how: string) => Promise<string[]>,
): Promise<{ cuts: number; problems: string[] }> {
  const traced = disk.clone();
  const points = await faultPointsOf(traced, async () => (await open(traced)).close());
  const problems: string[] = [];
  for (const point of points) {
    const cut = disk.clone();
    cut.inject(faultAt(point, { powerLoss: true }));
    await open(cut)
      .then((store) => store.close())
      .catch(() => undefined);
    if (!cut.isDead) problems.push(`recovery cut at ${point.label}: the power cut did not happen`);
    problems.push(...(await check(cut.powerLoss('drop-unsynced'), `recovery cut at ${point.label}`)));
  }
  return { cuts: points.length, problems };
}
