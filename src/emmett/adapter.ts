/**
 * eventfold as Emmett's event store: an object that satisfies Emmett's
 * `EventStore` interface (appendToStream, readStream, aggregateStream,
 * streamExists) over an open eventfold store, so Emmett's command handlers
 * run on eventfold's crash-safe log unchanged.
 *
 * Mapping (Emmett ← eventfold):
 * - `type`, `data` are eventfold's; Emmett's own `metadata` is stored as the
 *   event's metadata and read back merged with the positions below.
 * - stream positions are bigint from 1: an event's `streamPosition` is its
 *   eventfold version + 1, so a stream's `currentStreamVersion` is its number
 *   of events (0n for a stream without events).
 * - `globalPosition` is the eventfold position + 1 (bigint, from 1, like
 *   Emmett's other stores); `messageId` the eventfold event id (distinct per
 *   event).
 * - expected versions: a bigint n >= 1 is eventfold version n - 1; 0n and
 *   STREAM_DOES_NOT_EXIST are 'no_stream'; STREAM_EXISTS is 'stream_exists';
 *   NO_CONCURRENCY_CHECK (or none) is 'any'. A conflict throws Emmett's own
 *   ExpectedVersionConflictError (current and expected as Emmett positions),
 *   which `isExpectedVersionConflictError` recognises and command handlers retry.
 *
 * This module never imports Emmett's runtime itself: the entry points
 * (`emmett.ts` for require, `emmett.mts` for import) pass in the Emmett they
 * loaded, so the error class thrown is the one the application's own Emmett
 * (CommonJS or ES module build) checks against.
 */
import type {
  AggregateStreamOptions,
  AggregateStreamResult,
  AppendToStreamOptions,
  AppendToStreamResultWithGlobalPosition,
  Event,
  EventStore as EmmettEventStore,
  ExpectedStreamVersion,
  ReadEvent,
  ReadEventMetadataWithGlobalPosition,
  ReadStreamOptions,
  ReadStreamResult,
} from '@event-driven-io/emmett';
import type { EventStore } from '../store';
import { InvalidInputError } from '../errors';
import { ExpectedVersionConflictError as EventfoldConflict } from '../errors';
import { ANY, matchesExpectedVersion, NO_STREAM, STREAM_EXISTS, type ExpectedVersion } from '../expected-version';
import type { RecordedEvent } from '../api';

/** Emmett's `EventStore`, with global positions, backed by an eventfold store. */
export interface EventfoldEventStore extends EmmettEventStore<ReadEventMetadataWithGlobalPosition> {
  /** The eventfold store underneath (its own API reads the same events). */
  readonly store: EventStore;
  aggregateStream<State, EventType extends Event, EventPayloadType extends Event = EventType>(
    streamName: string,
    options: AggregateStreamOptions<State, EventType, ReadEventMetadataWithGlobalPosition, EventPayloadType>,
  ): Promise<AggregateStreamResult<State> & { lastEventGlobalPosition?: bigint }>;
  appendToStream<EventType extends Event, EventPayloadType extends Event = EventType>(
    streamName: string,
    events: EventType[],
    options?: AppendToStreamOptions<bigint, EventType, EventPayloadType>,
  ): Promise<AppendToStreamResultWithGlobalPosition>;
}

/** What the adapter needs from the Emmett the application loaded. */
export interface EmmettRuntime {
  ExpectedVersionConflictError: new (current: bigint, expected: ExpectedStreamVersion) => Error;
  upcastRecordedMessages: (messages: never[], options?: never) => unknown[];
  downcastRecordedMessages: (messages: never[], options?: never) => unknown[];
}

type AnyReadEvent = ReadEvent<Event, ReadEventMetadataWithGlobalPosition>;

/** Builds `getEventfoldEventStore` for one loaded Emmett (see the module comment). */
export function eventfoldEventStoreFactory(emmett: EmmettRuntime): (store: EventStore) => EventfoldEventStore {
  const upcast = emmett.upcastRecordedMessages as unknown as (events: AnyReadEvent[], versioning: unknown) => AnyReadEvent[];
  const downcast = emmett.downcastRecordedMessages as unknown as (events: Event[], versioning: unknown) => Event[];

  /** Eventfold's expected version for an Emmett one; throws InvalidInputError for anything Emmett would not accept either. */
  function toEventfoldExpected(expected: ExpectedStreamVersion | undefined): ExpectedVersion {
    if (expected === undefined || expected === 'NO_CONCURRENCY_CHECK') return ANY;
    if (expected === 'STREAM_DOES_NOT_EXIST') return NO_STREAM;
    if (expected === 'STREAM_EXISTS') return STREAM_EXISTS;
    if (typeof expected === 'bigint' && expected >= 0n && expected <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return expected === 0n ? NO_STREAM : Number(expected) - 1;
    }
    throw new InvalidInputError(`expectedStreamVersion must be a bigint >= 0n, STREAM_EXISTS, STREAM_DOES_NOT_EXIST or NO_CONCURRENCY_CHECK, got ${String(expected)}`);
  }

  /** Throws Emmett's conflict error unless a stream of `count` events meets `expected`. */
  function assertExpected(count: bigint, expected: ExpectedStreamVersion | undefined): void {
    if (!matchesExpectedVersion(toEventfoldExpected(expected), Number(count) - 1)) throw new emmett.ExpectedVersionConflictError(count, expected!);
  }

  function toEmmett(event: RecordedEvent): AnyReadEvent {
    const own = event.metadata !== null && typeof event.metadata === 'object' ? (event.metadata as Record<string, unknown>) : {};
    return {
      type: event.type,
      data: event.data as Event['data'],
      kind: 'Event',
      metadata: {
        ...own,
        messageId: event.id,
        streamName: event.stream,
        streamPosition: BigInt(event.version + 1),
        globalPosition: BigInt(event.position + 1),
      },
    } as AnyReadEvent;
  }

  return (store) => {
    async function readStream<EventType extends Event, EventPayloadType extends Event = EventType>(
      streamName: string,
      options?: ReadStreamOptions<bigint, EventType, EventPayloadType>,
    ): Promise<ReadStreamResult<EventType, ReadEventMetadataWithGlobalPosition>> {
      // The stream's head now: the events read and the version reported agree even while appends land.
      const last = store.streamVersion(streamName);
      const count = BigInt(last + 1);
      assertExpected(count, options?.expectedStreamVersion);
      const from = (positionOption(options?.from, 'from') ?? 1n) || 1n;
      let to = positionOption(options?.to, 'to') ?? count;
      const maxCount = positionOption(options?.maxCount, 'maxCount');
      if (maxCount !== undefined && from + maxCount - 1n < to) to = from + maxCount - 1n;
      const events: AnyReadEvent[] = [];
      if (last >= 0 && from <= to && from <= count) {
        for await (const event of store.readStream(streamName, { from: Number(from) - 1 })) {
          if (event.version > last || BigInt(event.version + 1) > to) break;
          events.push(toEmmett(event));
        }
      }
      return {
        currentStreamVersion: count,
        events: upcast(events, options?.schema?.versioning) as ReadEvent<EventType, ReadEventMetadataWithGlobalPosition>[],
        streamExists: last >= 0,
      };
    }

    const adapter: EventfoldEventStore = {
      store,
      readStream,

      async aggregateStream(streamName, options) {
        const { evolve, initialState, read } = options;
        const result = await readStream(streamName, read);
        // Emmett's evolve takes the event with or without its metadata: the read event serves both.
        const fold = evolve as (state: ReturnType<typeof initialState>, event: AnyReadEvent) => ReturnType<typeof initialState>;
        let state = initialState();
        for (const event of result.events) state = fold(state, event);
        const lastEvent = result.events[result.events.length - 1];
        if (!lastEvent) return { currentStreamVersion: result.currentStreamVersion, state, streamExists: result.streamExists };
        return {
          // What the state reflects: the last folded event's position (the stream's version unless `read.to` stopped earlier).
          currentStreamVersion: lastEvent.metadata.streamPosition,
          state,
          streamExists: true,
          lastEventGlobalPosition: lastEvent.metadata.globalPosition,
        };
      },

      async appendToStream(streamName, events, options) {
        if (!Array.isArray(events)) throw new InvalidInputError('appendToStream needs an array of events');
        const stored = downcast(events, options?.schema?.versioning);
        const inputs = stored.map((event) => {
          const metadata = (event as { metadata?: unknown }).metadata;
          return metadata === undefined ? { type: event.type, data: event.data } : { type: event.type, data: event.data, metadata };
        });
        const expected = toEventfoldExpected(options?.expectedStreamVersion);
        try {
          const result = await store.append(streamName, inputs, { expectedVersion: expected });
          return {
            nextExpectedStreamVersion: BigInt(result.version + 1),
            createdNewStream: result.version + 1 === inputs.length,
            lastEventGlobalPosition: BigInt(result.position + 1),
          };
        } catch (error) {
          if (error instanceof EventfoldConflict) {
            throw new emmett.ExpectedVersionConflictError(BigInt(error.actual + 1), options!.expectedStreamVersion!);
          }
          throw error;
        }
      },

      async streamExists(streamName) {
        return store.streamVersion(streamName) >= 0;
      },
    };
    return adapter;
  };
}

function positionOption(value: bigint | undefined, name: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'bigint' || value < 0n) throw new InvalidInputError(`${name} must be a bigint >= 0n, got ${String(value)}`);
  return value;
}
