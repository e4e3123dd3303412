import { asStorageError, EventfoldError, InvalidInputError } from '../errors';
import { ensureDir, writeFileAtomic, type FileSystem } from '../fs/file-system';
import type { RecordedEvent } from '../log/record';

/**
 * A named consumer of the global log. It catches up from its stored
 * checkpoint, then follows new durable events live. Delivery is at least
 * once: after a crash it resumes from its last checkpoint, so at most one
 * checkpoint interval is delivered again — never with a gap or out of order.
 *
 * Checkpoint file: `subscriptions/<name>.json`, JSON `{ "position": n }` (the
 * last handled global position, -1 for none), written atomically (temp file,
 * fsync, rename, directory fsync) every `checkpointEvery` events and on stop.
 */
export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Start after this global position instead of the stored checkpoint (-1: from the beginning). */
  from?: number;
  /** Store the checkpoint every this many events (default 1,000). */
  checkpointEvery?: number;
}

/** What a subscription needs from the store. */
export interface SubscriptionSource {
  readonly fs: FileSystem;
  readonly directory: string;
  readonly lastPosition: number;
  read(from: number): AsyncIterable<RecordedEvent>;
  waitForEventsAfter(position: number): Promise<void>;
}

export class Subscription {
  /** Last handled global position (-1 before the first). */
  position: number;
  /** The handler's error, if it threw: the subscription then stopped. */
  error: unknown;
  private stopping = false;
  private readonly done: Promise<void>;
  private sinceCheckpoint = 0;
  private progress: Array<{ position: number; resolve: () => void; reject: (e: unknown) => void }> = [];

  private constructor(
    readonly name: string,
    private readonly handler: EventHandler,
    private readonly source: SubscriptionSource,
    start: number,
    private readonly checkpointEvery: number,
    private readonly onStopped: (s: Subscription) => void,
  ) {
    this.position = start;
    this.done = this.run();
  }

  /** @internal The store starts subscriptions (`store.subscribe`); applications never call this. */
  static async start(source: SubscriptionSource, name: string, handler: EventHandler, options: SubscribeOptions, onStopped: (s: Subscription) => void): Promise<Subscription> {
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      throw new InvalidInputError(`subscription name must be 1-100 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
    }
    if (typeof handler !== 'function') throw new InvalidInputError('subscribe needs a handler function');
    const every = options.checkpointEvery ?? 1000;
    if (!Number.isSafeInteger(every) || every < 1) throw new InvalidInputError('checkpointEvery must be a whole number >= 1');
    const start = options.from ?? (await readCheckpoint(source.fs, source.directory, name));
    if (!Number.isSafeInteger(start) || start < -1) throw new InvalidInputError('from must be a whole number >= -1');
    return new Subscription(name, handler, source, start, every, onStopped);
  }

  /** Events durable in the store but not yet handled. */
  get lag(): number {
    return Math.max(0, this.source.lastPosition - this.position);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Resolves once every event up to `position` was handled; rejects if the handler throws first. */
  waitFor(position: number): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.progress.push({ position, resolve, reject }));
  }

  /** Stops after the event being handled and stores the checkpoint. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.position < this.source.lastPosition) {
          for await (const event of this.source.read(this.position + 1)) {
            await this.handler(event);
            this.position = event.position;
            this.settleProgress();
            if (++this.sinceCheckpoint >= this.checkpointEvery) await this.checkpoint();
            if (this.stopping) break;
          }
        } else {
          await this.source.waitForEventsAfter(this.position);
        }
      }
    } catch (error) {
      this.error = error instanceof EventfoldError ? error : new EventfoldError(`Subscription "${this.name}" stopped: its handler threw: ${(error as Error)?.message ?? error}`, { cause: error });
      this.stopping = true;
      for (const waiter of this.progress) waiter.reject(this.error);
      this.progress = [];
    }
    await this.checkpoint().catch(() => undefined);
    this.onStopped(this);
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
    const dir = `${this.source.directory}/subscriptions`;
    try {
      await ensureDir(this.source.fs, dir);
      await writeFileAtomic(this.source.fs, dir, `${this.name}.json`, Buffer.from(JSON.stringify({ position: this.position })));
    } catch (error) {
      // A typed error, so the run loop reports the disk, not "its handler threw".
      throw asStorageError(error, `Subscription "${this.name}" stopped: could not store its checkpoint at position ${this.position}`);
    }
  }
}

async function readCheckpoint(fs: FileSystem, directory: string, name: string): Promise<number> {
  const path = `${directory}/subscriptions/${name}.json`;
  if (!(await fs.exists(path))) return -1;
  const parsed = JSON.parse((await fs.readFile(path)).toString('utf8')) as { position: number };
  return parsed.position;
}
