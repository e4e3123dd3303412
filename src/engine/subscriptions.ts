import { asStorageError, EventfoldError, InvalidInputError, SubscriptionCheckpointError } from '../errors';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RecordedEvent } from '../api';
import { formatValueForMessage } from '../validate/validate-input';
import type { StoredCheckpoint } from './event-log';

/** Called with each event, in position order; the next event waits for its promise. A throw stops the subscription (`subscription.error`). */
export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Start after this global position instead of the stored checkpoint (-1: from the beginning). */
  from?: number;
  /** Store the checkpoint every this many events (default 1,000). */
  checkpointEvery?: number;
  /**
   * When the stored checkpoint is damaged: 'fail' (default) rejects with
   * SubscriptionCheckpointError; 'restart' delivers every event again from
   * the beginning (`subscription.restartedFromDamagedCheckpoint` says why).
   */
  onDamagedCheckpoint?: 'fail' | 'restart';
}

/** What a subscription needs from the store. */
export interface SubscriptionSource {
  readonly lastPosition: number;
  /** Asks the log for its durable end now (other processes' appends included); resolves with the new `lastPosition`. */
  refresh(): Promise<number>;
  read(from: number): AsyncIterable<RecordedEvent>;
  waitForEventsAfter(position: number): Promise<void>;
  readCheckpoint(name: string): Promise<StoredCheckpoint | null>;
  writeCheckpoint(name: string, position: number): Promise<void>;
}

/** Which subscription's handler is running in the current async context (so stop() can tell a call from its own handler). */
const handlerContext = new AsyncLocalStorage<Subscription>();

/**
 * A named consumer of the global log. It catches up from its stored
 * checkpoint, then follows new durable events live. Delivery is at least
 * once: after a crash it resumes from its last checkpoint, so at most one
 * checkpoint interval is delivered again — never with a gap or out of order.
 *
 * The checkpoint is stored by the log (the file log: `subscriptions/<name>.json`,
 * format in src/snapshot/checkpoint-file.ts, written atomically) every
 * `checkpointEvery` events and on stop. A damaged one is never guessed
 * around: `subscribe` rejects with SubscriptionCheckpointError unless told
 * where to start. One live subscription per name and store.
 */
export class Subscription {
  /** Last handled global position (-1 before the first). */
  position: number;
  /** The handler's error, if it threw: the subscription then stopped. */
  error: unknown;
  /** Set when the stored checkpoint was past the log's end: it resumed after the log's last event instead. */
  checkpointReset: { from: number; to: number } | null = null;
  /** Set when `onDamagedCheckpoint: 'restart'` was used because the stored checkpoint was damaged: why. */
  restartedFromDamagedCheckpoint: string | null = null;
  private stopping = false;
  private done = false;
  private readonly running: Promise<void>;
  private sinceCheckpoint = 0;
  private progress: Array<{ position: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  /** Wakes the run loop when stop() is called while it waits for new events. */
  private wake: (() => void) | undefined;
  /** The final checkpoint's failure, if stop() could not store it. */
  private checkpointFailure: Error | undefined;

  private constructor(
    readonly name: string,
    private readonly handler: EventHandler,
    private readonly source: SubscriptionSource,
    start: number,
    private readonly checkpointEvery: number,
    private readonly onStopped: (s: Subscription) => void,
  ) {
    this.position = start;
    this.running = this.run();
  }

  /** @internal The store starts subscriptions (`store.subscribe`); applications never call this. */
  static async start(source: SubscriptionSource, name: string, handler: EventHandler, options: SubscribeOptions, onStopped: (s: Subscription) => void): Promise<Subscription> {
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      throw new InvalidInputError(`subscription name must be 1-100 letters, digits, '.', '_' or '-', got ${formatValueForMessage(name)}`);
    }
    if (typeof handler !== 'function') throw new InvalidInputError('subscribe needs a handler function');
    const every = options.checkpointEvery ?? 1000;
    if (!Number.isSafeInteger(every) || every < 1) throw new InvalidInputError('checkpointEvery must be a whole number >= 1');
    const onDamaged = options.onDamagedCheckpoint ?? 'fail';
    if (onDamaged !== 'fail' && onDamaged !== 'restart') throw new InvalidInputError(`onDamagedCheckpoint must be 'fail' or 'restart', got ${JSON.stringify(onDamaged)}`);
    if (options.from !== undefined && (!Number.isSafeInteger(options.from) || options.from < -1)) throw new InvalidInputError('from must be a whole number >= -1');
    let start = options.from ?? -1;
    let damaged: string | null = null;
    let reset: { from: number; to: number } | null = null;
    if (options.from === undefined) {
      const stored = await source.readCheckpoint(name);
      if (stored && 'damaged' in stored) {
        if (onDamaged === 'fail') throw new SubscriptionCheckpointError(name, stored.where, stored.damaged);
        damaged = stored.damaged;
      } else if (stored) {
        start = stored.position;
        // Past the log's end (events lost, or cut by a repair): the positions after the end belong to new events.
        // The end asked of the log, not what this process knows: another process may have written (and handled) events it has not seen yet.
        const end = start > source.lastPosition ? await source.refresh() : source.lastPosition;
        if (start > end) {
          reset = { from: start, to: end };
          start = end;
        }
      }
    }
    const subscription = new Subscription(name, handler, source, start, every, onStopped);
    subscription.restartedFromDamagedCheckpoint = damaged;
    subscription.checkpointReset = reset;
    return subscription;
  }

  /** Events durable in the store but not yet handled. */
  get lag(): number {
    return Math.max(0, this.source.lastPosition - this.position);
  }

  /** True once stop() was called or the handler threw. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** True once it has stopped for good: its checkpoint is stored and its name is free again. */
  get finished(): boolean {
    return this.done;
  }

  /** Resolves once every event up to `position` was handled; rejects if the handler throws or the subscription stops first. */
  waitFor(position: number): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.stopping) return Promise.reject(this.stoppedBefore(position));
    return new Promise((resolve, reject) => this.progress.push({ position, resolve, reject }));
  }

  /**
   * Stops: at once when it is waiting for events, after the handler returns
   * when an event is being handled. Resolves once the checkpoint is stored
   * and the name is free for a new `subscribe`.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // Called from inside its own handler: the run loop is waiting for that
    // handler, so waiting for the loop here would wait forever. It stops as
    // soon as the handler returns.
    if (handlerContext.getStore() === this) return;
    await this.running;
    if (this.checkpointFailure) throw this.checkpointFailure;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.position < this.source.lastPosition) {
          // Reads skip events that retention or deletion removed: a read to its end covers the end seen here.
          const end = this.source.lastPosition;
          for await (const event of this.source.read(this.position + 1)) {
            await handlerContext.run(this, () => this.handler(event));
            this.position = event.position;
            this.settleProgress();
            if (++this.sinceCheckpoint >= this.checkpointEvery) await this.checkpoint();
            if (this.stopping) break;
          }
          if (!this.stopping && this.position < end) {
            this.position = end;
            this.settleProgress();
          }
        } else {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            if (this.stopping) resolve();
            else this.source.waitForEventsAfter(this.position).then(resolve, resolve);
          });
          this.wake = undefined;
        }
      }
    } catch (error) {
      this.error = error instanceof EventfoldError ? error : new EventfoldError(`Subscription "${this.name}" stopped: its handler threw: ${(error as Error)?.message ?? error}`, { cause: error });
      this.stopping = true;
    }
    // A failed final checkpoint is not hidden: stop() rejects with it (the
    // events since the last stored checkpoint will be delivered again).
    await this.checkpoint().catch((error: unknown) => {
      this.checkpointFailure = error as Error;
      this.error ??= error;
    });
    for (const waiter of this.progress) waiter.reject(this.error ?? this.stoppedBefore(waiter.position));
    this.progress = [];
    this.done = true;
    this.onStopped(this);
  }

  private stoppedBefore(position: number): EventfoldError {
    return new EventfoldError(`Subscription "${this.name}" stopped at position ${this.position}, before position ${position}`);
  }

  private settleProgress(): void {
    if (this.progress.length === 0) return;
    const still = [];
    for (const waiter of this.progress) {
      if (this.position >= waiter.position) waiter.resolve();
      else still.push(waiter);
    }
    this.progress = still;
  }

  private async checkpoint(): Promise<void> {
    this.sinceCheckpoint = 0;
    try {
      await this.source.writeCheckpoint(this.name, this.position);
    } catch (error) {
      // A typed error, so the run loop reports the disk, not "its handler threw".
      throw asStorageError(error, `Subscription "${this.name}" stopped: could not store its checkpoint at position ${this.position}`);
    }
  }
}
