import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to traffic:
 * - `pass`: forwards bytes as they come;
 * - `delay`: holds every chunk `ms` (± `jitterMs`) in each direction, keeping byte order;
 * - `blackhole`: accepts connections and forwards nothing, closing nothing (a dead link
 *   that looks alive).
 */
export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number; jitterMs?: number }
  | { kind: 'blackhole' };

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Set when this pair was blackholed on its own (see `blackholeExisting`). */
  dead: boolean;
}

/**
 * A TCP proxy for fault injection on loopback: tests, the chaos suite and the benchmarks
 * put it between clients and the server to add latency, cut connections and blackhole them.
 */
export class FaultProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #target: { host: string; port: number };
  #mode: ProxyMode = { kind: 'pass' };
  #random: () => number;
  /** Connections accepted since start (each one a connection attempt by a client). */
  accepted = 0;

  private constructor(target: { host: string; port: number }, random: () => number) {
    this.#target = target;
    this.#random = random;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(
    target: { host?: string; port: number },
    options: { port?: number; random?: () => number } = {},
  ): Promise<FaultProxy> {
    const proxy = new FaultProxy(
      { host: target.host ?? '127.0.0.1', port: target.port },
      options.random ?? Math.random,
    );
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open connections right now. */
  get open(): number {
    return this.#pairs.size;
  }

  setMode(mode: ProxyMode): void {
    this.#mode = mode;
  }

  /** Points the proxy at another server port (e.g. after a restart on a new port). */
  retarget(port: number): void {
    this.#target.port = port;
  }

  /** Resets every open connection at once, in both directions. */
  cutAll(): void {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
  }

  /**
   * Makes the connections open now go silent without closing them (a half-open link);
   * connections made afterwards pass normally.
   */
  blackholeExisting(): void {
    for (const pair of this.#pairs) pair.dead = true;
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.accepted += 1;
    const upstream = connect(this.#target.port, this.#target.host);
    const pair: Pair = { client, upstream, dead: false };
    this.#pairs.add(pair);
    const close = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    this.#pipe(pair, client, upstream);
    this.#pipe(pair, upstream, client);
  }

  #pipe(pair: Pair, from: Socket, to: Socket): void {
    // Chunks are released in order: each is due no earlier than the one before it.
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      const mode = this.#mode;
      if (pair.dead || mode.kind === 'blackhole') return;
      if (mode.kind === 'pass') {
        to.write(chunk);
        return;
      }
      const jitter = mode.jitterMs ? (this.#random() * 2 - 1) * mode.jitterMs : 0;
      const due = Math.max(Date.now() + Math.max(0, mode.ms + jitter), lastDue);
      lastDue = due;
      setTimeout(() => {
        if (!pair.dead && !to.destroyed) to.write(chunk);
      }, due - Date.now());
    });
  }
}
