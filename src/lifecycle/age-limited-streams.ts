import type { Retention } from './stream-metadata';

/** A stream's event as far as its age matters: its version and timestamp. */
export interface Aged {
  version: number;
  timestamp: number;
}

/**
 * What was last read of one stream under a `maxAge`, from its last event
 * down: `kept` is the event with the newest timestamp among those read (each
 * event above it is older), or null when no event from `fromVersion` up to
 * `top` was kept when it was read. `timestamp: Infinity` stands for an event
 * appended by this process a moment ago, whose exact time is being read back.
 */
interface Evidence {
  top: number;
  kept: Aged | null;
}

/**
 * Which streams under a `maxAge` still hold an event that reads return, for
 * the synchronous `store.streams()`: an age limit can remove every event of
 * a stream while its versions stay, so the stream's version says nothing.
 *
 * Per such stream (memory grows with those streams, not with events) it
 * keeps the newest-timestamped event read from the stream's end down: read
 * at open and after a metadata change until the first event kept then (one
 * event for a stream in use; a stream whose events all expired is read down
 * to its retention's first version, which a scavenge leaves at one event),
 * and moved by every append. Events only ever expire, so a stream is listed
 * while that event is kept. Once it has expired, the events below it were
 * older when read — with a clock that never went back none is kept — so the
 * stream is no longer listed, and it is read again in the background, from
 * its end, in case a clock set back left an older event younger: if so it is
 * listed again.
 */
export class AgeLimitedStreams {
  private readonly evidence = new Map<string, Evidence>();
  /** Reads in progress, by stream: at most one each. */
  private readonly reading = new Map<string, Promise<void>>();
  /** Streams appended to while they were read: read once more after. */
  private readonly readAgain = new Set<string>();

  constructor(
    /** The stream's events from version `top` down, as the log stores them (retention not applied). */
    private readonly readDown: (stream: string, top: number) => AsyncIterable<Aged>,
    /** The stream's retention now, or null when it has no age limit (any more). */
    private readonly retentionOf: (stream: string, now: number) => Retention | null,
    private readonly lastVersionOf: (stream: string) => number,
  ) {}

  /** True when `stream` (under an age limit) holds an event that `retention`, its retention now, keeps. */
  holdsKeptEvent(stream: string, retention: Retention): boolean {
    const known = this.evidence.get(stream);
    if (!known) {
      // Not read yet (a change another process made, just taken in): listed until the read says otherwise.
      this.readInBackground(stream);
      return true;
    }
    const { kept } = known;
    if (!kept) return false;
    if (kept.version >= retention.fromVersion && kept.timestamp >= retention.minTimestamp) return true;
    this.readInBackground(stream);
    return false;
  }

  /** Reads `stream` from its end down (see the class comment) and keeps what it found; resolves once done. */
  evaluate(stream: string): Promise<void> {
    const running = this.reading.get(stream);
    // A read in the background that failed says nothing of this one.
    if (running) return running.catch(() => undefined).then(() => this.evaluate(stream));
    const reading = this.readFromTheEnd(stream).finally(() => {
      this.reading.delete(stream);
      if (this.readAgain.delete(stream)) this.readInBackground(stream);
    });
    this.reading.set(stream, reading);
    return reading;
  }

  /** Events of `stream` are durable up to `lastVersion` (this process's append): kept until its time is read back. */
  appended(stream: string, lastVersion: number): void {
    if (!this.retentionOf(stream, Date.now())) return;
    this.take(stream, { top: lastVersion, kept: { version: lastVersion, timestamp: Infinity } });
    this.readInBackground(stream);
  }

  /** Events of `stream` another process appended (their times known). */
  discovered(stream: string, event: Aged): void {
    if (!this.retentionOf(stream, Date.now())) return;
    this.take(stream, { top: event.version, kept: event });
  }

  /** True when what was read of `stream` is still what its settings ask for (see `forget`). */
  knows(stream: string): boolean {
    return this.evidence.has(stream);
  }

  /** The stream's age limit or deletion changed: read it again (settled by `evaluate`, or in the background). */
  forget(stream: string): void {
    this.evidence.delete(stream);
  }

  /** Waits for the reads in the background (close). */
  async settled(): Promise<void> {
    while (this.reading.size > 0) await Promise.allSettled([...this.reading.values()]);
  }

  private readInBackground(stream: string): void {
    if (this.reading.has(stream)) {
      this.readAgain.add(stream);
      return;
    }
    // A failed read (the store closing, a disk error that the reads report themselves) leaves what was known.
    this.evaluate(stream).catch(() => undefined);
  }

  private async readFromTheEnd(stream: string): Promise<void> {
    const now = Date.now();
    const retention = this.retentionOf(stream, now);
    if (!retention) {
      this.evidence.delete(stream);
      return;
    }
    const top = this.lastVersionOf(stream);
    let kept: Aged | null = null;
    if (!retention.hidden && top >= retention.fromVersion) {
      for await (const event of this.readDown(stream, top)) {
        if (event.version < retention.fromVersion) break;
        if (event.timestamp >= retention.minTimestamp) {
          kept = { version: event.version, timestamp: event.timestamp };
          break;
        }
      }
    }
    // What was appended while it read is newer than what it read.
    const known = this.evidence.get(stream);
    if (known && known.top > top) this.take(stream, { top, kept });
    else this.evidence.set(stream, { top, kept });
  }

  /** Adds what was learnt of the events up to `found.top` to what was known: the newest timestamp wins. */
  private take(stream: string, found: Evidence): void {
    const known = this.evidence.get(stream);
    if (!known) {
      this.evidence.set(stream, found);
      return;
    }
    const newer = (found.kept?.timestamp ?? -Infinity) >= (known.kept?.timestamp ?? -Infinity) ? found.kept : known.kept;
    this.evidence.set(stream, { top: Math.max(known.top, found.top), kept: newer });
  }
}
