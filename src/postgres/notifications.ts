/**
 * Learns of other processes' appends: LISTEN eventfold on a connection of
 * its own (the append function notifies with the last position at commit),
 * and, while someone waits for events, a poll every POLL_MS as the fallback
 * (a notification is lost while the listening connection is down: it
 * reconnects after RECONNECT_MS).
 */
import pg from 'pg';

export const CHANNEL = 'eventfold';
/** The fallback poll while someone waits, in milliseconds. */
export const POLL_MS = 1000;
const RECONNECT_MS = 1000;

export class Notifications {
  private client: pg.Client | undefined;
  private stopped = false;
  private poll: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    /** Called with the notified last position (undefined for a poll or a reconnect: look). */
    private readonly onNews: (last: number | undefined) => void,
    private readonly someoneWaits: () => boolean,
  ) {}

  start(): void {
    void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.config);
    this.client = client;
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (!this.stopped) this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      const last = Number(message.payload);
      this.onNews(Number.isSafeInteger(last) ? last : undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.stopped) {
        await client.end();
        return;
      }
      // Whatever was appended while nobody listened.
      this.onNews(undefined);
    } catch {
      lost();
    }
  }

  /** Polls every POLL_MS for as long as someone waits (called when a wait starts). */
  pollWhileWaiting(): void {
    if (this.poll || this.stopped) return;
    this.poll = setInterval(() => {
      if (!this.someoneWaits()) {
        clearInterval(this.poll);
        this.poll = undefined;
        return;
      }
      this.onNews(undefined);
    }, POLL_MS).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.reconnect);
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }
}
