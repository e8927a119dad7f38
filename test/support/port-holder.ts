import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Holds one loopback port for a whole test file and forwards each connection, byte for
 * byte, to wherever the server currently listens. A server restarted "on the same port"
 * thus never gives its port back: no other process can take it in between.
 */
export class PortHolder {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #targetPort = 0;

  private constructor() {
    this.#server = createServer((client) => this.#forward(client));
  }

  static async open(): Promise<PortHolder> {
    const holder = new PortHolder();
    holder.#server.listen(0, '127.0.0.1');
    await once(holder.#server, 'listening');
    return holder;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** New connections go to this port from now on. */
  forwardTo(port: number): void {
    this.#targetPort = port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #forward(client: Socket): void {
    const upstream = connect(this.#targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      // Either side closing or failing (a server going down) ends the pair, as a
      // direct connection would end.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
