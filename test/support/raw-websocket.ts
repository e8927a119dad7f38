// `ws` is socket.io's own WebSocket library (a dependency of engine.io), not one of ours:

// Node 20 has no WebSocket client, and socket.io-client cannot be told to stop reading.
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.ts';

/** Packet types of engine.io (the first character) and socket.io (the second) on the wire. */
const ENGINE_OPEN = '0';
const ENGINE_PONG = '3';
const SOCKET_CONNECT = '40';
const SOCKET_CONNECT_ERROR = '44';
const SOCKET_ACK = '43';

/**
 * A signed-in socket.io client written by hand over a bare WebSocket, as a hostile client
 * would: it can stop reading (the server's answers then pile up on the server's side), send
 * pongs nobody asked for, and pipeline requests without waiting for their answers.
 */
export class RawWebSocket {
  readonly #ws: WebSocket;
  readonly #acks = new Map<number, (answer: unknown) => void>();
  #nextAckId = 0;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data) => this.#onFrame(String(data)));
  }

  /** Opens the WebSocket and joins the main namespace with `token`; rejects if refused. */
  static async open(httpUrl: string, token: string): Promise<RawWebSocket> {
    const url = `${httpUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url);
    const client = new RawWebSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', function onOpening(data) {
        const frame = String(data);
        if (frame.startsWith(ENGINE_OPEN))
          ws.send(`${SOCKET_CONNECT}${JSON.stringify({ token, protocol: PROTOCOL_VERSION })}`);
        else if (frame.startsWith(SOCKET_CONNECT)) {
          ws.off('message', onOpening);
          resolve();
        } else if (frame.startsWith(SOCKET_CONNECT_ERROR)) {
          reject(new Error(`refused: ${frame.slice(SOCKET_CONNECT_ERROR.length)}`));
        }
      });
    });
    return client;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Emits an event with an ack id; the promise settles only if the answer is ever read. */
  request(event: string, payload: unknown): Promise<unknown> {
    const id = this.#nextAckId++;
    const answered = new Promise<unknown>((resolve) => this.#acks.set(id, resolve));
    this.#ws.send(`42${id}${JSON.stringify([event, payload])}`);
    return answered;
  }

  /** Stops reading: the kernel's buffers fill, then the server's. */
  stopReading(): void {
    this.#ws.pause();
  }

  /** Reads again: what piled up is taken, and a close the server sent is seen. */
  resumeReading(): void {
    this.#ws.resume();
  }

  /** A heartbeat answer sent unasked, as a client that reads nothing can still do. */
  pong(): void {
    if (this.open) this.#ws.send(ENGINE_PONG);
  }

  close(): void {
    this.#ws.terminate();
  }

  #onFrame(frame: string): void {
    if (!frame.startsWith(SOCKET_ACK)) return;
    const match = /^43(\d+)(.*)$/s.exec(frame);
    if (!match) return;
    const [, id, body] = match;
    const answers = JSON.parse(body ?? '[]') as unknown[];
    this.#acks.get(Number(id))?.(answers[0]);
    this.#acks.delete(Number(id));
  }
}
