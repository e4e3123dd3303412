import { freeze, produce, type Draft } from 'immer';
import { EventfoldError } from '../errors';
import type { RecordedEvent } from '../log/record';

/** A fold of every event of the store into one state, kept up to date by the store. */
export interface Projection<S = any> {
  initialState: S;
  /** Mutates the draft for one event (immer turns that into a new frozen state). */
  evolve(draft: Draft<S>, event: RecordedEvent): void;
  /** Bump when `evolve` changes meaning, so stored states are rebuilt. */
  version: number;
}

/** A projection's `evolve` threw for an append: the append was refused and nothing written. */
export class ProjectionError extends EventfoldError {
  constructor(
    readonly projection: string,
    cause: unknown,
  ) {
    super(`Projection "${projection}" refused the append: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/**
 * The states of all projections. Each accepted append is folded in at once,
 * in one `produce` per projection (not one per event), giving the "pending"
 * states; the published states move to an append's result only once its
 * batch is durable, so readers never see what a crash could take away.
 */
export class ProjectionStates {
  private published = new Map<string, unknown>();
  private pending = new Map<string, unknown>();

  constructor(private readonly projections: Record<string, Projection>) {
    for (const [name, projection] of Object.entries(projections)) {
      const initial = produce(projection.initialState, () => undefined);
      this.published.set(name, initial);
      this.pending.set(name, initial);
    }
  }

  get names(): string[] {
    return Object.keys(this.projections);
  }

  /** The durable state of a projection, frozen. */
  state(name: string): unknown {
    if (!this.published.has(name)) throw new EventfoldError(`No projection named "${name}"`);
    return this.published.get(name);
  }

  /** Folds events on top of the pending states; throws ProjectionError (nothing changed) if an evolve throws. */
  fold(events: RecordedEvent[]): Map<string, unknown> | undefined {
    if (this.published.size === 0) return undefined;
    const next = new Map<string, unknown>();
    for (const [name, projection] of Object.entries(this.projections)) {
      try {
        next.set(
          name,
          produce(this.pending.get(name), (draft: Draft<unknown>) => {
            for (const event of events) projection.evolve(draft, event);
          }),
        );
      } catch (error) {
        throw new ProjectionError(name, error);
      }
    }
    return next;
  }

  /** Makes a folded result the pending state (the append was accepted). */
  accept(states: Map<string, unknown> | undefined): void {
    if (states) for (const [name, state] of states) this.pending.set(name, state);
  }

  /** Publishes the states after a durable append. */
  publish(states: Map<string, unknown> | undefined): void {
    if (states) for (const [name, state] of states) this.published.set(name, state);
  }

  /** The durable states with their projection versions, for a snapshot. */
  snapshot(): Record<string, { version: number; state: unknown }> {
    const states: Record<string, { version: number; state: unknown }> = {};
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

  /** Starts from a snapshot's states (checked with `mismatch` first). */
  restore(saved: Record<string, { state: unknown }>): void {
    for (const name of Object.keys(this.projections)) {
      const state = freeze(saved[name].state, true);
      this.published.set(name, state);
      this.pending.set(name, state);
    }
  }

  /** During recovery: folds committed events straight into both views. */
  replay(events: RecordedEvent[]): void {
    const states = this.fold(events);
    this.accept(states);
    this.publish(states);
  }
}
