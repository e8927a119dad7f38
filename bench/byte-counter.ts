import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP relay to a local port that counts the bytes clients send through it: what a
 * tab puts on the wire (WebSocket frames, handshakes and all), with nothing added or held.
 */
export class ByteCounter {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #upBytes = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<ByteCounter> {
    const server = createServer();
    const counter = new ByteCounter(server);
    server.on('connection', (client) => counter.#relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  get url(): string {
    const address = this.#server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${port}`;
  }

  /** Bytes clients sent since the start or the last `reset`. */
  get upBytes(): number {
    return this.#upBytes;
  }

  reset(): void {
    this.#upBytes = 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      this.#upBytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
