/**
 * The types of the public API. An application declares the union of its
 * event types once, opens the store with it, and every method is typed by
 * it: `append` accepts only those shapes, and whatever is read back
 * (`readStream`, `readAll`, subscription handlers, projections,
 * `aggregateStream`) narrows on `type`. The store cannot check stored data
 * against a TypeScript type at run time: the declaration is the
 * application's promise about what it wrote.
 *
 * ```ts
 * type BankEvent =
 *   | { type: 'Opened'; data: { owner: string } }
 *   | { type: 'Deposited'; data: { amount: number } };
 * const store = await EventStore.open<BankEvent>('./data');
 * ```
 */
import type { Draft, Immutable } from 'immer';
import type { ExpectedVersion, ValidExpectedVersion } from './expected-version';

/** What every event type looks like: a `type` name, and optionally `data` and `metadata`. */
export interface AnyEvent {
  type: string;
  data?: unknown;
  metadata?: unknown;
}

/** The data of an event type as it is read back (an event appended without data reads back `null`). */
export type EventDataOf<E> = E extends { data: infer D } ? D : E extends { data?: infer D } ? D | null | undefined : null | undefined;

/** The metadata an event type declares (`unknown` when it declares none). */
export type EventMetadataOf<E> = E extends { metadata?: infer M } ? M : unknown;

/** One event to append: an event of the declared union, with an optional caller-chosen id (a random UUID otherwise). */
export type EventInput<E extends AnyEvent = AnyEvent> = E extends AnyEvent ? E & { id?: string; metadata?: EventMetadataOf<E> } : never;

/** A durable event as read back: one member per declared event type, so `if (e.type === 'Deposited')` narrows `e.data`. */
export type RecordedEvent<E extends AnyEvent = AnyEvent> = E extends AnyEvent
  ? {
      /** Global position in the store: from 0, gapless, strictly increasing. */
      position: number;
      stream: string;
      /** Version in its stream: from 0, gapless. */
      version: number;
      type: E['type'];
      data: EventDataOf<E>;
      /** The metadata given to `append`, or null. */
      metadata: EventMetadataOf<E> | null;
      id: string;
      /** Milliseconds since the epoch, when the append was accepted. */
      timestamp: number;
    }
  : never;

/** A subscription's handler: called once per durable event, in global order. */
export type EventHandler<E extends AnyEvent = AnyEvent> = (event: RecordedEvent<E>) => void | Promise<void>;

/** A fold of every event of the store into one state, kept up to date by the store. */
export interface Projection<S = unknown, E extends AnyEvent = AnyEvent> {
  initialState: S;
  /** Mutates the draft for one event (immer turns that into a new frozen state). */
  evolve(draft: Draft<S>, event: RecordedEvent<E>): void;
  /** Bump when `evolve` changes meaning, so stored states are rebuilt. */
  version: number;
}

/** The states of a store's projections, by name. */
export type ProjectionStates = Record<string, unknown>;

/** The projections passed to `open`: one per name of `P`, each folding into `P[name]`. */
export type ProjectionsFor<P extends ProjectionStates, E extends AnyEvent = AnyEvent> = { [K in keyof P]: Projection<P[K], E> };

/**
 * `T`, but not a place TypeScript infers type arguments from (the built-in
 * `NoInfer` needs TypeScript 5.4; this works in older versions too).
 */
export type NotInferredFrom<T> = [T][T extends unknown ? 0 : never];

/**
 * When `open` is given the event union but not the projections' states
 * (`open<BankEvent>(dir, { projections })`), TypeScript cannot infer the
 * states, and the projections would be untyped and unreachable through
 * `state()`: that is made a compile error naming the fix.
 */
export type ProjectionsNeedTheirStates<P> = [keyof P] extends [never]
  ? { projections?: { [name: string]: 'name the projection states in open<Events, { name: State }>()' } }
  : unknown;

/** A projection's state as `store.state(name)` returns it: deeply frozen, so typed read-only. */
export type ProjectionState<S> = Immutable<S>;

/** Options of `store.aggregateStream(stream, options)`. */
export interface AggregateStreamOptions<S, E extends AnyEvent = AnyEvent> {
  initialState: S;
  /** Mutates the draft for one event of the stream. */
  evolve(draft: Draft<S>, event: RecordedEvent<E>): void;
  /** Last version to fold (default: the stream's last version). */
  to?: number;
}

/** Options of `store.append(stream, events, options)`. */
export interface AppendOptions<V extends ExpectedVersion = ExpectedVersion> {
  /**
   * `'any'` (default), `'no_stream'`, `'stream_exists'`, or the stream's
   * current last version; a mismatch rejects with ExpectedVersionConflictError.
   */
  expectedVersion?: V;
}

/**
 * Makes a literal expected version that can never match (such as `-1` or
 * `1.5`) a compile error where `append` is called.
 */
export type CheckedAppendOptions<V> = [ValidExpectedVersion<V>] extends [never] ? { expectedVersion?: 'a whole number >= 0 or a named expected version' } : unknown;

/** What `append` resolves with. */
export interface AppendResult {
  /** Global position of the last appended event. */
  position: number;
  /** Stream version of the last appended event. */
  version: number;
}

/** Options of `store.readStream(stream, options)`. */
export interface ReadStreamOptions {
  /** First version to read (default: 0 forward, the last version backward). */
  from?: number;
  direction?: 'forward' | 'backward';
  /** Most events to read (default: all). */
  limit?: number;
}

/** Options of `store.readAll(options)`. */
export interface ReadAllOptions {
  /** First global position to read (default 0). */
  from?: number;
  /** Most events to read (default: all). */
  limit?: number;
}

/** What `checkpoint` resolves with. */
export interface CheckpointResult {
  /** The snapshot file, relative to the store directory. */
  file: string;
  /** Last global position it covers. */
  position: number;
  durationMs: number;
}
