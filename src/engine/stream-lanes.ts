/**
 * Call order per stream, and a quiet moment for an append with ids to decide
 * whether it is a retry.
 *
 * Every append of this process to a stream is handed to the log in the order
 * `store.append` (or `deleteStream`/`setStreamMetadata`, in the lane of the
 * stream they change) was called. Usually that costs nothing: an append is
 * handed over at once, in the same call. Only an append that must look at
 * the stream first (its events all carry ids: is it a retry?) holds its lane:
 * it waits until every append to the stream handed over before it has
 * settled, reads the stream, decides, and is handed over (or answered)
 * before any later append to that stream — which waits, in call order,
 * behind it. So the decision and the append's place in the log are one step
 * as far as this process's other appends to the stream can tell.
 *
 * Memory: one small entry per stream with appends in flight, plus idle ones
 * kept for reuse until a sweep (see `dropIfIdle`).
 */
export class StreamLanes {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes that went idle since the last sweep (a lane may count twice: that only sweeps a little early). */
  private wentIdle = 0;

  /**
   * Runs `handOver` now (no one holds the lane) or after the appends called
   * before it; it must hand its append to the log synchronously and return
   * its promise, and call `settled` once as that promise settles (see
   * EventLog.appendOne). Resolves or rejects as that promise does.
   */
  inOrder<T>(stream: string, handOver: (settled: () => void) => Promise<T>): Promise<T> {
    const lane = this.lanes.get(stream);
    if (!lane || (lane.holders === 0 && lane.waiting.length === 0)) return this.track(stream, lane, handOver);
    return new Promise<T>((resolve, reject) => {
      lane.waiting.push(() => {
        this.track(stream, this.lanes.get(stream), handOver).then(resolve, reject);
        return false;
      });
    });
  }

  /**
   * Holds the lane for an append that must look at the stream first: waits
   * until every append to `stream` handed over before it settled, then runs
   * `decide` (which may read the stream and must end by handing its append to
   * the log, or by answering without one) while later appends wait. An
   * append that `decide` finds can take no place in the log (it can only be
   * answered or refused) may be answered `apart`: the lane is let go at once,
   * and nothing waits for that answer.
   */
  holding<T>(stream: string, decide: () => Promise<{ handedOver: Promise<T> } | { answer: T } | { apart: Promise<T> }>): Promise<T> {
    let lane = this.lanes.get(stream);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(stream, lane);
    }
    const held = lane;
    return new Promise<T>((resolve, reject) => {
      const start = (): boolean => {
        held.holders++;
        void held
          .allSettled()
          .then(decide)
          .then(
            (decided) => {
              if ('answer' in decided) resolve(decided.answer);
              else if ('apart' in decided) decided.apart.then(resolve, reject);
              else {
                held.unsettled++;
                decided.handedOver.then(resolve, reject).finally(() => this.settled(stream, held));
              }
            },
            reject,
          )
          .finally(() => {
            held.holders--;
            this.release(stream, held);
          });
        return true;
      };
      if (held.waiting.length === 0 && held.holders === 0) start();
      else held.waiting.push(start);
    });
  }

  private track<T>(stream: string, lane: Lane | undefined, handOver: (settled: () => void) => Promise<T>): Promise<T> {
    let tracked = lane;
    if (!tracked) {
      tracked = new Lane();
      this.lanes.set(stream, tracked);
    }
    // Counted before the hand-over: a log may settle the append at once (a refusal).
    tracked.unsettled++;
    const used = tracked;
    let done = false;
    const settled = () => {
      if (done) return;
      done = true;
      this.settled(stream, used);
    };
    try {
      return handOver(settled);
    } catch (error) {
      settled();
      return Promise.reject(error);
    }
  }

  private settled(stream: string, lane: Lane): void {
    lane.unsettled--;
    if (lane.unsettled === 0) lane.wakeSettled();
    this.dropIfIdle(lane);
  }

  /** The lane's holder is done: the appends that waited go on, in order, until one holds the lane again. */
  private release(stream: string, lane: Lane): void {
    while (lane.holders === 0 && lane.waiting.length > 0) {
      const next = lane.waiting.shift()!;
      next();
    }
    this.dropIfIdle(lane);
  }

  /**
   * An idle lane stays in the map to be reused by the stream's next append:
   * deleting and re-adding one per append churned the map's hash tables and
   * the lanes themselves into old-space garbage, whose major collections
   * (their concurrent marking competes with the fsync thread on a 2-core
   * machine) made the open-loop latency tail. Idle lanes are swept only
   * while the map holds more than IDLE_LANES_KEPT lanes, in one pass once
   * more lanes went idle since the last sweep than half the map: each pass
   * is paid for by as many idle transitions as half what it walks
   * (amortised O(1) per append), and after a burst to a million streams the
   * idle lanes go within a few passes (counting the lanes that went idle,
   * not the map's size, which a burst of busy lanes would have set high for
   * good). A store busy on fewer streams than that never sweeps: sweeping
   * every few thousand appends, as it once did, dropped every lane of a
   * thousand busy streams to build it again at once, ten times a second at
   * 50,000 appends/s — lanes that lived long enough to be promoted, and
   * made a full collection every second or two.
   */
  private dropIfIdle(lane: Lane): void {
    if (!lane.idle()) return;
    this.wentIdle++;
    if (this.lanes.size <= IDLE_LANES_KEPT || this.wentIdle <= this.lanes.size / 2) return;
    for (const [name, each] of this.lanes) if (each.idle()) this.lanes.delete(name);
    this.wentIdle = 0;
  }
}

/** Idle lanes kept for reuse (a few hundred bytes each): a sweep leaves a map no larger than this alone. */
const IDLE_LANES_KEPT = 4096;

/** One stream's appends in flight. */
class Lane {
  /** Appends handed to the log and not settled yet. */
  unsettled = 0;
  /** Appends holding the lane (deciding): 0 or 1. */
  holders = 0;
  /** Appends called while the lane was held, in call order; each returns true if it holds the lane in turn. */
  readonly waiting: Array<() => boolean> = [];
  private settledWaiters: Array<() => void> = [];

  /** Nothing in flight, held or waiting: the lane may be dropped. */
  idle(): boolean {
    return this.unsettled === 0 && this.holders === 0 && this.waiting.length === 0;
  }

  /** Resolves once every append handed over so far has settled (appends wait behind a holder, so none is added meanwhile). */
  allSettled(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  wakeSettled(): void {
    // The usual case: no one waits (a new array each time would be garbage per append).
    if (this.settledWaiters.length === 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
  }
}
