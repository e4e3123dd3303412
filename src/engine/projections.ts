import { createDraft, finishDraft, freeze, produce, type Draft } from 'immer';
import type { Projection, RecordedEvent } from '../api';
import { ProjectionError, UnknownProjectionError } from '../errors';
import { isSystemStream } from '../lifecycle/stream-metadata';
import type { LogReplay, ProjectionSnapshot } from './event-log';

export type { Projection };

/**
 * The states of all projections, folded with immer in global position order.
 *
 * Appends of this process: one draft per projection is kept open while they
 * are accepted, and finished once per batch — when the log says the order of
 * a batch is fixed (`settle`, the file log's group commit) or, for a log that
 * does not say (one other processes write to), when the batch is durable —
 * one `produce` per committed batch, not one per event or append. Each append
 * is folded into the draft when it is accepted, so an `evolve` that throws
 * refuses exactly that append: the draft is then rebuilt from the appends
 * accepted before it. Published states (what `state()` returns) move only
 * when a batch is durable, so readers never see what a crash could take away.
 *
 * Events other processes appended (`foldDurable`) are folded into the
 * published states when the log reports them, in their place in the global
 * order; this process's accepted appends are then folded again on top. A
 * durable event whose `evolve` throws cannot be refused any more: that
 * projection stops there, and `state()` throws its ProjectionError.
 */
export class ProjectionStates implements LogReplay {
  private published = new Map<string, unknown>();
  /** Projections stopped by a durable event their evolve refused (see foldDurable). */
  private readonly stopped = new Map<string, ProjectionError>();
  /** States of batches settled before they were durable, oldest first (at most one with the file log). */
  private settledBatches: Array<{ last: object; states: Map<string, unknown>; appends: FoldedAppend[] }> = [];
  /** The state the open drafts started from: after every append already settled into a batch. */
  private base = new Map<string, unknown>();
  private drafts: Map<string, Draft<unknown>> | undefined;
  /** Appends folded into the open drafts, oldest first. */
  private inDrafts: FoldedAppend[] = [];
  private readonly entries: Array<[string, Projection]>;
  /** How many evolves are running now (one, unless an evolve folds another store's projection). */
  private evolvesRunning = 0;

  constructor(private readonly projections: Record<string, Projection>) {
    // Every fold goes through these entries, so each evolve is counted wherever it is called from.
    this.entries = Object.entries(projections).map(([name, projection]) => [name, this.counted(projection)]);
    for (const [name, projection] of this.entries) {
      const initial = freeze(projection.initialState, true);
      this.published.set(name, initial);
      this.base.set(name, initial);
    }
  }

  /**
   * True while an `evolve` runs. The file log folds an append between taking
   * its position and moving past it, so a write made from inside `evolve`
   * would take the same position: the engine refuses such writes (see
   * ReentrantCallError), on every log alike.
   */
  get evolving(): boolean {
    return this.evolvesRunning > 0;
  }

  /** `projection` with its evolve counted in `evolvesRunning`. */
  private counted(projection: Projection): Projection {
    const evolve = projection.evolve;
    return {
      initialState: projection.initialState,
      version: projection.version,
      evolve: (draft, event) => {
        this.evolvesRunning++;
        try {
          // Called as its own method (`this` is the projection), as before.
          evolve.call(projection, draft, event);
        } finally {
          this.evolvesRunning--;
        }
      },
    };
  }

  get names(): string[] {
    return Object.keys(this.projections);
  }

  /** True when there is something to fold (see LogReplay.foldsEvents). */
  get foldsEvents(): boolean {
    return this.entries.length > 0;
  }

  /** The durable state of a projection, frozen. */
  state(name: string): unknown {
    if (!this.published.has(name)) throw new UnknownProjectionError(name, this.names);
    const stopped = this.stopped.get(name);
    if (stopped) throw stopped;
    return this.published.get(name);
  }

  /**
   * Folds an accepted append into the open drafts. Throws ProjectionError, with
   * the drafts as they were before, if an evolve throws. `decodeAgain` (see
   * LogListener.accepting): `events` are not kept, only the way to have them
   * again should they be folded a second time.
   */
  fold(append: object, events: readonly RecordedEvent[], decodeAgain?: () => readonly RecordedEvent[]): void {
    const drafts = this.openDrafts();
    for (const [name, projection] of this.entries) {
      // A stopped projection's state means nothing any more: it judges no append.
      if (this.stopped.has(name)) continue;
      try {
        const draft = drafts.get(name)!;
        for (const event of events) projection.evolve(draft, event);
      } catch (error) {
        this.drafts = undefined;
        throw new ProjectionError(name, error);
      }
    }
    this.inDrafts.push({ append, events: decodeAgain ?? (() => events) });
  }

  /** Forgets an accepted append the log did not write after all: the drafts are rebuilt without it when next needed. */
  discard(append: object): void {
    const at = this.inDrafts.findIndex((a) => a.append === append);
    if (at < 0) return;
    this.inDrafts.splice(at, 1);
    this.drafts = undefined;
  }

  /**
   * The order of the batch ending with `lastAppend` is fixed: its states are
   * settled now (the drafts usually hold exactly that batch) and published
   * when it is durable (`publishDurable`).
   */
  settleBatch(lastAppend: object): void {
    const appends = this.inDrafts.slice(0, this.inDrafts.findIndex((a) => a.append === lastAppend) + 1);
    const states = this.settle(lastAppend);
    // Its appends are kept until it is durable: a rebuild (see `rebuild`) folds their events again on its new states.
    if (states) this.settledBatches.push({ last: lastAppend, states, appends });
  }

  /**
   * Appends of this process are durable, `lastAppend` the last of them:
   * publishes their states, settling them first if `settleBatch` was not
   * called for them.
   */
  publishDurable(lastAppend: object): void {
    const at = this.settledBatches.findIndex((b) => b.last === lastAppend);
    if (at >= 0) {
      for (let i = 0; i <= at; i++) this.publish(this.settledBatches[i].states);
      this.settledBatches = this.settledBatches.slice(at + 1);
      return;
    }
    try {
      this.publish(this.settle(lastAppend));
    } catch (error) {
      // Only after foldDurable changed the base under appends accepted before it: their evolve now refuses.
      this.stopAll(error);
    }
  }

  /**
   * Durable events this process did not append, next in global order: folded
   * into the published states. This process's accepted appends come after
   * them in the log, so the drafts are rebuilt on the new base when next needed.
   */
  foldDurable(logEvents: readonly RecordedEvent[]): void {
    const events = applicationEvents(logEvents);
    for (const [name, projection] of this.entries) {
      if (this.stopped.has(name)) continue;
      let at: RecordedEvent | undefined;
      try {
        this.published.set(
          name,
          produce(this.published.get(name), (draft: Draft<unknown>) => {
            for (const event of events) {
              at = event;
              projection.evolve(draft, event);
            }
          }),
        );
      } catch (error) {
        this.stopped.set(name, new ProjectionError(name, new Error(`it refused the durable event at position ${at?.position}: ${(error as Error)?.message ?? error}`, { cause: error })));
      }
    }
    this.base = new Map(this.published);
    this.settledBatches = [];
    this.drafts = undefined;
  }

  private stopAll(error: unknown): void {
    for (const [name] of this.entries) {
      if (!this.stopped.has(name)) this.stopped.set(name, error instanceof ProjectionError ? error : new ProjectionError(name, error));
    }
    this.inDrafts = [];
    this.drafts = undefined;
  }

  /**
   * The states after `lastAppend` (a batch's last append), settled as the new
   * base. Appends folded after it stay in reopened drafts.
   */
  private settle(lastAppend: object): Map<string, unknown> | undefined {
    const at = this.inDrafts.findIndex((a) => a.append === lastAppend);
    if (at < 0) return undefined;
    let states: Map<string, unknown>;
    if (at === this.inDrafts.length - 1 && this.drafts) {
      states = new Map([...this.drafts].map(([name, draft]) => [name, finishDraft(draft)]));
      this.drafts = undefined;
      this.inDrafts = [];
    } else {
      // The batch ends before the newest accepted append (a size limit cut it): fold its prefix on its own.
      const settled = this.inDrafts.slice(0, at + 1).map((append) => append.events());
      states = new Map(
        this.entries.map(([name, projection]) => [
          name,
          this.stopped.has(name)
            ? this.base.get(name)
            : produce(this.base.get(name), (draft: Draft<unknown>) => {
                for (const events of settled) for (const event of events) projection.evolve(draft, event);
              }),
        ]),
      );
      this.inDrafts = this.inDrafts.slice(at + 1);
      this.drafts = undefined;
    }
    this.base = states;
    return states;
  }

  /** Publishes the states of a durable batch. */
  private publish(states: Map<string, unknown> | undefined): void {
    if (states) for (const [name, state] of states) this.published.set(name, state);
  }

  /**
   * During recovery and a read-only refresh: folds committed events (they are
   * known good; a throw fails the open). Every log's replay comes here, so
   * this is the one place the store's own events are left out.
   */
  replay(logEvents: readonly RecordedEvent[]): void {
    const events = applicationEvents(logEvents);
    if (events.length === 0) return;
    const drafts = this.openDrafts();
    for (const [name, projection] of this.entries) {
      const draft = drafts.get(name)!;
      try {
        for (const event of events) if (!isSystemStream(event.stream)) projection.evolve(draft, event);
      } catch (error) {
        throw new ProjectionError(name, error);
      }
    }
  }

  /** Ends recovery: the replayed states become both the base and the published states. */
  finishReplay(): void {
    if (!this.drafts) return;
    for (const [name, draft] of this.drafts) {
      const state = finishDraft(draft);
      this.base.set(name, state);
      this.published.set(name, state);
    }
    this.drafts = undefined;
  }

  /** The open drafts, (re)built from the base and the appends folded since. */
  private openDrafts(): Map<string, Draft<unknown>> {
    if (this.drafts) return this.drafts;
    const drafts = new Map<string, Draft<unknown>>();
    const folded = this.inDrafts.map((append) => append.events());
    for (const [name, projection] of this.entries) {
      const draft = createDraft(this.base.get(name) as object) as Draft<unknown>;
      if (!this.stopped.has(name)) for (const events of folded) for (const event of events) projection.evolve(draft, event);
      drafts.set(name, draft);
    }
    this.drafts = drafts;
    return drafts;
  }

  /**
   * Rebuilds every projection from the log while appends go on (after a
   * scavenge removed events the states were folded from): folds the events
   * `read` returns, from the initial states, up to the durable end
   * (`durableEnd`, read again until a round ends there), then, in the same
   * synchronous step, adopts the result as the published states and folds
   * this process's appends not yet durable on top of it again. Returns false
   * (changing nothing) when `stop` says so between pages. A projection whose
   * evolve refuses a durable event stops there, as in `foldDurable`.
   */
  async rebuild(read: (from: number, to: number) => AsyncIterable<readonly RecordedEvent[]>, durableEnd: () => number, stop: () => boolean): Promise<boolean> {
    let states = new Map<string, unknown>(this.entries.map(([name, projection]) => [name, freeze(projection.initialState, true)]));
    const stopped = new Map<string, ProjectionError>();
    let next = 0;
    for (let end = durableEnd(); next <= end; end = durableEnd()) {
      for await (const page of read(next, end)) {
        if (stop()) return false;
        const events = applicationEvents(page.filter((event) => event.position <= end));
        for (const [name, projection] of this.entries) {
          if (stopped.has(name)) continue;
          try {
            states.set(name, foldAll(projection, states.get(name), events));
          } catch (error) {
            stopped.set(name, new ProjectionError(name, new Error(`it refused the durable event at position ${(error as FoldFailure).position}: ${(error as FoldFailure).message}`, { cause: error })));
          }
        }
      }
      next = end + 1;
    }
    // Synchronous from here: no batch becomes durable before the states are adopted.
    this.published = states;
    this.stopped.clear();
    for (const [name, error] of stopped) this.stopped.set(name, error);
    let settled = states;
    try {
      for (const batch of this.settledBatches) {
        const previous = settled;
        const events = batch.appends.flatMap((append) => append.events());
        batch.states = new Map(this.entries.map(([name, projection]) => [name, this.stopped.has(name) ? previous.get(name) : foldAll(projection, previous.get(name), events)]));
        settled = batch.states;
      }
    } catch (error) {
      // Appends already ordered cannot be refused any more.
      this.stopAll(error);
    }
    this.base = settled;
    this.drafts = undefined;
    this.rebuildOwed = false;
    return true;
  }

  /**
   * True after a rebuild that did not finish (see `abandonRebuild`): the next
   * scavenge rebuilds the projections even if it removes nothing.
   */
  rebuildOwed = false;

  /**
   * A scavenge that may have removed events the states were folded from
   * failed, or its rebuild did not finish: the states must not live on, in
   * `state()` or in a snapshot. Every projection stops (`state()` throws
   * why; a snapshot refuses, see `snapshot`) and its states are let go of,
   * until a rebuild that finishes (the next scavenge) or a reopen.
   */
  abandonRebuild(cause: unknown): void {
    const reason = new Error(
      `its state may hold what was folded from events a scavenge removed, and its rebuild from the events kept did not finish (${(cause as Error)?.message ?? cause}); scavenge again, or open the store again, to fold it from the events kept`,
      { cause },
    );
    for (const [name, projection] of this.entries) {
      if (!this.stopped.has(name)) this.stopped.set(name, new ProjectionError(name, reason, 'was not rebuilt after a scavenge'));
      const initial = freeze(projection.initialState, true);
      this.published.set(name, initial);
      this.base.set(name, initial);
    }
    for (const batch of this.settledBatches) batch.states = new Map(this.base);
    this.drafts = undefined;
    this.rebuildOwed = true;
  }

  /**
   * The durable states with their projection versions, for a snapshot.
   * Throws the ProjectionError of a stopped projection: its state is not one
   * the log would fold (a snapshot of it would let the next open start from
   * it as if nothing had happened, or keep what a scavenge removed).
   */
  snapshot(): ProjectionSnapshot {
    for (const [, error] of this.stopped) throw error;
    const states: ProjectionSnapshot = {};
    for (const [name, projection] of Object.entries(this.projections)) {
      states[name] = { version: projection.version, state: this.published.get(name) };
    }
    return states;
  }

  /**
   * Why a snapshot's states cannot be used (a projection is new or its version
   * changed since), or undefined when they all can.
   */
  mismatch(saved: Record<string, { version: number }>): string | undefined {
    for (const [name, projection] of Object.entries(this.projections)) {
      const old = saved[name];
      if (!old) return `projection "${name}" is not in the snapshot`;
      if (old.version !== projection.version) return `projection "${name}" is version ${projection.version}, the snapshot holds version ${old.version}`;
    }
    return undefined;
  }

  /**
   * Starts from a snapshot's states if it can: returns why it cannot (see
   * `mismatch`), or undefined once they are adopted.
   */
  restoreSnapshot(saved: ProjectionSnapshot): string | undefined {
    const mismatch = this.mismatch(saved);
    if (mismatch === undefined) this.restore(saved);
    return mismatch;
  }

  /** Starts from a snapshot's states (checked with `mismatch` first). */
  private restore(saved: Record<string, { state: unknown }>): void {
    for (const name of Object.keys(this.projections)) {
      const state = freeze(saved[name].state, true);
      this.published.set(name, state);
      this.base.set(name, state);
    }
  }
}

/** An accepted append folded into the drafts, and its events, decoded again when they are folded a second time. */
interface FoldedAppend {
  append: object;
  events: () => readonly RecordedEvent[];
}

/** Projections see the application's events only, never the store's own (system streams): on open, refresh and live alike. */
export function applicationEvents(events: readonly RecordedEvent[]): readonly RecordedEvent[] {
  return events.some((e) => isSystemStream(e.stream)) ? events.filter((e) => !isSystemStream(e.stream)) : events;
}

/** An evolve's throw while folding durable events, with the position of the event it refused. */
type FoldFailure = Error & { position: number };

/** `state` with `events` folded in (one produce); a throw carries the refused event's position. */
function foldAll(projection: Projection, state: unknown, events: readonly RecordedEvent[]): unknown {
  if (events.length === 0) return state;
  let at: RecordedEvent | undefined;
  try {
    return produce(state, (draft: Draft<unknown>) => {
      for (const event of events) {
        at = event;
        projection.evolve(draft, event);
      }
    });
  } catch (error) {
    throw Object.assign(new Error((error as Error)?.message ?? String(error), { cause: error }), { position: at?.position ?? -1 });
  }
}
