import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where a relay sends one new connection; `tag` names the target for `inspect` and `cut`. */
export interface Route {
  port: number;
  /** The address to connect from (a device's own 127.x.y.z, so the server still tells it apart). */
  localAddress?: string;
  tag: number;
}

export type Direction = 'up' | 'down';

export interface RelayOptions {
  /** Picks where a new connection goes, when it comes; null closes it at once. */
  route(client: Socket): Route | null;
  /**
   * Looks at each chunk before it is forwarded (`up`: towards the target). `cut` loses the
   * chunk with the connection: both ends are reset before any of it is written, as if the
   * link died just before those bytes.
   */
  inspect?(chunk: Buffer, direction: Direction, tag: number): 'pass' | 'cut';
}

interface Pair {
  client: Socket;
  upstream: Socket;
  tag: number;
}

/**
 * A TCP relay on loopback that picks a target per connection and may look at the bytes it
 * forwards: the cluster's load balancer in front of the nodes, and each node's link to
 * Redis. Unlike the fault proxy it adds no faults of its own; it forwards in order, with
 * backpressure, and ends a pair when either side ends.
 */
export class Relay {
  readonly #server: Server;
  readonly #options: RelayOptions;
  readonly #pairs = new Set<Pair>();
  /** Connections routed to each tag since start. */
  readonly routed = new Map<number, number>();

  private constructor(options: RelayOptions) {
    this.#options = options;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(options: RelayOptions): Promise<Relay> {
    const relay = new Relay(options);
    await new Promise<void>((resolve, reject) => {
      relay.#server.once('error', reject);
      relay.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Resets every open connection routed to `tag`. */
  cut(tag: number): void {
    for (const pair of this.#pairs) if (pair.tag === tag) this.#destroy(pair);
  }

  async stop(): Promise<void> {
    for (const pair of this.#pairs) this.#destroy(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const route = this.#options.route(client);
    if (!route) {
      client.destroy();
      return;
    }
    this.routed.set(route.tag, (this.routed.get(route.tag) ?? 0) + 1);
    const upstream = connect({
      host: '127.0.0.1',
      port: route.port,
      ...(route.localAddress ? { localAddress: route.localAddress } : {}),
    });
    const pair: Pair = { client, upstream, tag: route.tag };
    this.#pairs.add(pair);
    const close = () => this.#destroy(pair);
    for (const socket of [client, upstream]) socket.on('error', close).on('close', close);
    this.#pipe(pair, client, upstream, 'up');
    this.#pipe(pair, upstream, client, 'down');
  }

  #pipe(pair: Pair, from: Socket, to: Socket, direction: Direction): void {
    from.on('data', (chunk: Buffer) => {
      if (!this.#pairs.has(pair)) return;
      if (this.#options.inspect?.(chunk, direction, pair.tag) === 'cut') {
        this.#destroy(pair);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  }

  #destroy(pair: Pair): void {
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
