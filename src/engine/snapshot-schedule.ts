import type { CheckpointResult } from '../api';
import { assertPlainData } from '../validate/validate-input';
import { OutdatedStatesError, type EngineSnapshot, type EventLog } from './event-log';
import type { ProjectionStates } from './projections';

/** When snapshots fall due: every this many events, and/or this many log bytes, since the last (0: never by that measure). */
export interface SnapshotEvery {
  snapshotEvery: number;
  snapshotEveryBytes: number;
}

/**
 * Snapshots of the engine's state: captured when they fall due (at the end
 * of the durable batch that crosses the mark) or on `checkpoint()`, and
 * written by the log one after another, so where they land does not depend
 * on how long the previous write took. At most one waits: a newer one due
 * meanwhile replaces its contents.
 */
export class SnapshotSchedule {
  /** The last snapshot write started (each waits for the one before it). */
  private inFlight: Promise<CheckpointResult> | undefined;
  /** A captured snapshot whose write waits for the one in flight. */
  private waiting: { contents: EngineSnapshot; written: Promise<CheckpointResult> } | undefined;
  private lastSnapshotPosition: number;
  private logBytesSinceSnapshot = 0;
  /** The last automatic snapshot's failure, if the latest attempt failed (the log is unaffected). */
  lastError: Error | undefined;
  /** Set while snapshots are held (see `heldDuring`): resolves when they may be written again. */
  private held: Promise<void> | undefined;
  /** Holds under way (a scavenge and a rebuild may overlap): snapshots resume when the last ends. */
  private holds = 0;
  private release: (() => void) | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly projections: ProjectionStates,
    private readonly every: SnapshotEvery,
    /** An automatic snapshot the log refused because its states are outdated (OutdatedStatesError): the projections want a rebuild. */
    private readonly outdated: () => void = () => undefined,
  ) {
    this.lastSnapshotPosition = log.recovery.snapshot.position ?? -1;
  }

  /** Called once a batch is durable: starts a snapshot when one falls due. */
  noteDurable(lastPosition: number, bytes: number): void {
    this.logBytesSinceSnapshot += bytes;
    const { snapshotEvery: every, snapshotEveryBytes: everyBytes } = this.every;
    const due = (every > 0 && lastPosition - this.lastSnapshotPosition >= every) || (everyBytes > 0 && this.logBytesSinceSnapshot >= everyBytes);
    // While held, one that falls due is taken by the first durable batch after.
    if (due && !this.held) {
      this.start().then(
        () => (this.lastError = undefined),
        (error: Error) => {
          // Not a failure: a scavenge removed events its states were folded from; the next one due holds the rebuilt states.
          if (error instanceof OutdatedStatesError) this.outdated();
          else this.lastError = error;
        },
      );
    }
  }

  /** Takes one now (after any in flight); null for an empty store. */
  async checkpoint(): Promise<CheckpointResult | null> {
    for (;;) {
      if (this.held) await this.held;
      else if (this.inFlight) await this.inFlight.catch(() => undefined);
      else break;
    }
    if (this.log.lastPosition < 0) return null;
    return this.start();
  }

  /**
   * Runs `work` once the snapshot in flight (if any) is written, writing no
   * snapshot until it settles: automatic ones are not started, `checkpoint()`
   * waits. A scavenge runs this way (see Engine.scavenge).
   */
  async heldDuring<T>(work: () => Promise<T>): Promise<T> {
    if (this.holds++ === 0) this.held = new Promise<void>((resolve) => (this.release = resolve));
    try {
      await this.settled();
      return await work();
    } finally {
      if (--this.holds === 0) {
        const release = this.release!;
        this.held = undefined;
        this.release = undefined;
        release();
      }
    }
  }

  /** Resolves once no snapshot is being written (whatever became of it). */
  async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private start(): Promise<CheckpointResult> {
    const started = performance.now();
    let contents: EngineSnapshot;
    try {
      contents = this.capture();
    } catch (error) {
      return Promise.reject(error);
    }
    this.lastSnapshotPosition = contents.position;
    this.logBytesSinceSnapshot = 0;
    const waiting = this.waiting;
    if (waiting) {
      waiting.contents = contents;
      return waiting.written;
    }
    const previous = this.inFlight;
    const slot = { contents, written: undefined as unknown as Promise<CheckpointResult> };
    if (previous) this.waiting = slot;
    const writing = (async () => {
      if (previous) {
        await previous.catch(() => undefined);
        if (this.waiting === slot) this.waiting = undefined;
      }
      const file = await this.log.writeSnapshot(slot.contents);
      return { file, position: slot.contents.position, durationMs: performance.now() - started };
    })();
    slot.written = writing;
    this.inFlight = writing;
    const settle = () => {
      if (this.inFlight === writing) this.inFlight = undefined;
    };
    writing.then(settle, settle);
    return writing;
  }

  /** Everything durable right now, copied so that appends can carry on while it is written. */
  private capture(): EngineSnapshot {
    const projections = this.projections.snapshot();
    for (const [name, { state }] of Object.entries(projections)) {
      assertPlainData(state, `the state of projection "${name}"`);
    }
    const { position, log } = this.log.captureSnapshot();
    return { position, projections, log, createdAt: new Date().toISOString() };
  }
}
