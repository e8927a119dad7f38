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

interface UpstreamTarget {
  host: string;
  port: number;
  /**
   * The address the proxy connects to the server from (any 127.x.y.z on loopback): one per
   * proxy makes the server see its clients as separate devices, for per-address limits.
   */
  localAddress?: string;
}

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
  readonly #target: UpstreamTarget;
  #mode: ProxyMode = { kind: 'pass' };
  #random: () => number;
  /** Connections accepted since start (each one a connection attempt by a client). */
  accepted = 0;

  private constructor(target: UpstreamTarget, random: () => number) {
    this.#target = target;
    this.#random = random;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(
    target: { host?: string; port: number; localAddress?: string },
    options: { port?: number; random?: () => number } = {},
  ): Promise<FaultProxy> {
    const proxy = new FaultProxy(
      { ...target, host: target.host ?? '127.0.0.1' },
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
    const upstream = connect(this.#target);
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
    // Held chunks leave through one FIFO queue and one timer, each due no earlier than the
    // one before it. A timer per chunk is not enough: Node times each from its cached loop
    // clock, so two chunks due in the same millisecond could fire in either order, and a
    // TCP stream never reorders bytes (the chaos suite caught frames swapped this way).
    const held: { due: number; chunk: Buffer }[] = [];
    let releasing = false;
    const release = () => {
      releasing = false;
      const now = Date.now();
      for (let next = held[0]; next && next.due <= now; next = held[0]) {
        held.shift();
        if (!pair.dead && !to.destroyed) to.write(next.chunk);
      }
      const next = held[0];
      if (next) schedule(next.due);
    };
    const schedule = (due: number) => {
      releasing = true;
      setTimeout(release, due - Date.now());
    };
    from.on('data', (chunk: Buffer) => {
      const mode = this.#mode;
      if (pair.dead || mode.kind === 'blackhole') return;
      // Passing straight through while chunks are still held would let this one overtake them.
      if (mode.kind === 'pass' && held.length === 0) {
        to.write(chunk);
        return;
      }
      const jitter =
        mode.kind === 'delay' && mode.jitterMs ? (this.#random() * 2 - 1) * mode.jitterMs : 0;
      const delayMs = mode.kind === 'delay' ? Math.max(0, mode.ms + jitter) : 0;
      const due = Math.max(Date.now() + delayMs, held.at(-1)?.due ?? 0);
      held.push({ due, chunk });
      if (!releasing) schedule(due);
    });
  }
}
