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

/**
 * A cap on the link's throughput, per direction (`up` is client to server), in bytes per
 * second; absent or null means uncapped. 64 kbit/s is 8,000 bytes per second.
 */
export interface Bandwidth {
  upBytesPerSecond?: number | null;
  downBytesPerSecond?: number | null;
}

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
  /** Out of reach (see `sever`): no cut and no close from the server gets to the client. */
  severed: boolean;
}

/**
 * Bytes a capped direction may hold before it stops reading from its sender, about what
 * a kernel's socket buffers hold: beyond it the sender's own queue grows, as on a real
 * slow uplink, instead of the proxy swallowing everything at once.
 */
const CAPPED_HIGH_WATER_BYTES = 64 * 1024;

/**
 * A TCP proxy for fault injection on loopback: tests, the chaos suite and the benchmarks
 * put it between clients and the server to add latency, cap bandwidth, cut connections and
 * blackhole them.
 */
export class FaultProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #target: UpstreamTarget;
  #mode: ProxyMode = { kind: 'pass' };
  #bandwidth: Bandwidth = {};
  #severed = false;
  #random: () => number;
  /** Connections accepted since start (each one a connection attempt by a client). */
  accepted = 0;
  /** Bytes clients sent towards the server since start (or since it was last set to 0). */
  upBytes = 0;

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

  /**
   * Caps throughput from now on, for open connections too (a device moving onto a slow
   * network); `{}` lifts the cap. Chunks already held keep their release time.
   */
  setBandwidth(bandwidth: Bandwidth): void {
    this.#bandwidth = { ...bandwidth };
  }

  /** Points the proxy at another server port (e.g. after a restart on a new port). */
  retarget(port: number): void {
    this.#target.port = port;
  }

  /** Resets every open connection at once, in both directions (severed ones are out of reach). */
  cutAll(): void {
    for (const pair of this.#pairs) {
      if (pair.severed) continue;
      this.#destroy(pair);
    }
  }

  /**
   * Makes the connections open now go silent without closing them (a half-open link);
   * connections made afterwards pass normally.
   */
  blackholeExisting(): void {
    for (const pair of this.#pairs) pair.dead = true;
  }

  /**
   * The device's link dies without a word, as when a phone goes to sleep off the network:
   * open connections go silent, connections made meanwhile pass nothing, and neither a cut
   * nor the server's end closing reaches the device (a frozen page would not hear of it
   * either). `restore` ends it.
   */
  sever(): void {
    this.#severed = true;
    for (const pair of this.#pairs) {
      pair.dead = true;
      pair.severed = true;
    }
  }

  /**
   * New connections pass again. Severed ones stay silent for good (TCP would not skip the
   * bytes they lost), but are in reach again: cuts get to them as to any, and one whose
   * server end closed meanwhile is reset when the device next sends on it, as the server's
   * kernel would answer a connection it no longer knows.
   */
  restore(): void {
    this.#severed = false;
    for (const pair of this.#pairs) pair.severed = false;
  }

  async stop(): Promise<void> {
    for (const pair of this.#pairs) this.#destroy(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #destroy(pair: Pair): void {
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }

  #accept(client: Socket): void {
    this.accepted += 1;
    const upstream = connect(this.#target);
    const pair: Pair = { client, upstream, dead: this.#severed, severed: this.#severed };
    this.#pairs.add(pair);
    const close = () => this.#destroy(pair);
    client.on('error', close).on('close', close);
    // The server's end closing is news the device only gets while it is in reach; a severed
    // pair keeps the device's side open and silent until the device closes it itself.
    const upstreamClosed = () => {
      if (pair.severed) upstream.destroy();
      else close();
    };
    upstream.on('error', upstreamClosed).on('close', upstreamClosed);
    this.#pipe(pair, client, upstream, 'up');
    this.#pipe(pair, upstream, client, 'down');
  }

  #pipe(pair: Pair, from: Socket, to: Socket, direction: 'up' | 'down'): void {
    // Held chunks leave through one FIFO queue and one timer, each due no earlier than the
    // one before it. A timer per chunk is not enough: Node times each from its cached loop
    // clock, so two chunks due in the same millisecond could fire in either order, and a
    // TCP stream never reorders bytes (the chaos suite caught frames swapped this way).
    const held: { due: number; chunk: Buffer }[] = [];
    let heldBytes = 0;
    let releasing = false;
    /** When a capped link has finished putting everything it was given on the wire. */
    let wireFreeAt = 0;
    const release = () => {
      releasing = false;
      const now = Date.now();
      for (let next = held[0]; next && next.due <= now; next = held[0]) {
        held.shift();
        heldBytes -= next.chunk.length;
        if (!pair.dead && !to.destroyed) to.write(next.chunk);
      }
      if (from.isPaused() && heldBytes < CAPPED_HIGH_WATER_BYTES / 2) from.resume();
      const next = held[0];
      if (next) schedule(next.due);
    };
    const schedule = (due: number) => {
      releasing = true;
      setTimeout(release, due - Date.now());
    };
    from.on('data', (chunk: Buffer) => {
      if (direction === 'up') this.upBytes += chunk.length;
      if (direction === 'up' && pair.upstream.destroyed && !pair.severed) {
        this.#destroy(pair);
        return;
      }
      const mode = this.#mode;
      if (pair.dead || mode.kind === 'blackhole') return;
      const bytesPerSecond =
        direction === 'up' ? this.#bandwidth.upBytesPerSecond : this.#bandwidth.downBytesPerSecond;
      // Passing straight through while chunks are still held would let this one overtake them.
      if (mode.kind === 'pass' && !bytesPerSecond && held.length === 0) {
        to.write(chunk);
        return;
      }
      const now = Date.now();
      // A capped link sends one chunk after another, each taking its size over the rate; the
      // chunk leaves once its last byte is on the wire, then travels the latency.
      let sentAt = now;
      if (bytesPerSecond) {
        wireFreeAt = Math.max(wireFreeAt, now) + (chunk.length * 1_000) / bytesPerSecond;
        sentAt = wireFreeAt;
      }
      const jitter =
        mode.kind === 'delay' && mode.jitterMs ? (this.#random() * 2 - 1) * mode.jitterMs : 0;
      const delayMs = mode.kind === 'delay' ? Math.max(0, mode.ms + jitter) : 0;
      const due = Math.max(sentAt + delayMs, held.at(-1)?.due ?? 0);
      held.push({ due, chunk });
      heldBytes += chunk.length;
      if (bytesPerSecond && heldBytes >= CAPPED_HIGH_WATER_BYTES) from.pause();
      if (!releasing) schedule(due);
    });
  }
}
