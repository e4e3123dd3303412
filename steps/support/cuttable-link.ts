// A TCP link between a store and the PostgreSQL server that a scenario can
// cut at a chosen moment: it forwards every byte, except that, once told, it
// holds back the n-th COMMIT its store sends (the server never receives it).
// Then the scenario ends the server's side (the server's session ends, its
// transaction rolls back) and later the store's side (the store finds its
// connection lost with its COMMIT out) — each exactly when the scenario says.
import net from 'node:net';

/** A simple-protocol Query message holding exactly "COMMIT": 'Q', length 11 (4 + "COMMIT\0"), the text. */
const COMMIT_MESSAGE = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);

interface Pair {
  client: net.Socket;
  server: net.Socket;
}

export class CuttableLink {
  private readonly listener: net.Server;
  private readonly pairs = new Set<Pair>();
  private commitsToPass = -1;
  private held: Pair | undefined;
  private onHeld: (() => void) | undefined;

  private constructor(private readonly target: URL) {
    this.listener = net.createServer((client) => this.connect(client));
  }

  /** A link listening on a free port of 127.0.0.1, forwarding to the server of `url`. */
  static async open(url: string): Promise<CuttableLink> {
    const link = new CuttableLink(new URL(url));
    await new Promise<void>((resolve) => link.listener.listen(0, '127.0.0.1', resolve));
    return link;
  }

  /** `url` with its host and port replaced by the link's. */
  urlThrough(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String((this.listener.address() as net.AddressInfo).port);
    return through.toString();
  }

  /** From now on, the `n`-th COMMIT any connection of the link sends is held back (not forwarded). */
  holdCommit(n: number): void {
    this.commitsToPass = n - 1;
  }

  /** Resolves once a COMMIT is held back. */
  commitHeld(): Promise<void> {
    if (this.held) return Promise.resolve();
    return new Promise((resolve) => (this.onHeld = resolve));
  }

  /** Closes the server's side of the connection whose COMMIT is held: the server ends that session, the store is not told. */
  endServerSide(): Promise<void> {
    const server = this.held!.server;
    return new Promise((resolve) => {
      server.once('close', () => resolve());
      server.destroy();
    });
  }

  /** Closes the store's side of that connection: the store finds it lost while its COMMIT was out. */
  cutStoreSide(): void {
    this.held!.client.destroy();
  }

  private connect(client: net.Socket): void {
    const server = net.connect(Number(this.target.port || 5432), this.target.hostname);
    const pair: Pair = { client, server };
    this.pairs.add(pair);
    client.on('data', (chunk) => {
      if (this.held === pair) return;
      if (this.commitsToPass >= 0 && chunk.includes(COMMIT_MESSAGE)) {
        if (this.commitsToPass === 0) {
          this.commitsToPass = -1;
          this.held = pair;
          this.onHeld?.();
          return;
        }
        this.commitsToPass--;
      }
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (this.held !== pair) client.write(chunk);
    });
    const end = () => {
      this.pairs.delete(pair);
      // The held pair's sides are ended one at a time, by the scenario.
      if (this.held === pair) return;
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  }

  async close(): Promise<void> {
    for (const { client, server } of this.pairs) {
      client.destroy();
      server.destroy();
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}
