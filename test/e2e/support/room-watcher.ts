import { type LogEntry, PROTOCOL_VERSION } from '../../../src/shared/protocol.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../../support/raw-client.ts';

/** A message as another user received it live, with when it arrived. */
export interface Arrival {
  message: LogEntry;
  at: number;
}

/**
 * Another user in a room, over a bare socket.io client: what reaches the people on the
 * other end, live, whichever way the sender's messages went out (a tab's socket, or the
 * service worker's POST).
 */
export class RoomWatcher {
  readonly arrivals: Arrival[] = [];
  readonly #socket: RawSocket;

  private constructor(socket: RawSocket) {
    this.#socket = socket;
    socket.on('messages', ({ messages }) => {
      const at = Date.now();
      for (const message of messages) this.arrivals.push({ message, at });
    });
  }

  static async join(url: string, room: string, name = 'Watcher'): Promise<RoomWatcher> {
    const { token } = await signUp(url, name);
    const socket = await rawClient(url, { token, protocol: PROTOCOL_VERSION });
    const watcher = new RoomWatcher(socket);
    const ack = (await emitRaw(socket, 'join', { room })) as { ok?: boolean };
    if (!ack.ok) throw new Error(`the watcher could not join ${room}: ${JSON.stringify(ack)}`);
    return watcher;
  }

  /** The bodies received, in arrival order, repeats included. */
  bodies(): string[] {
    return this.arrivals.map(({ message }) => message.body);
  }

  /** When the last of `bodies` arrived (NaN while one is missing). */
  arrivedAt(bodies: readonly string[]): number {
    const times = bodies.map(
      (body) => this.arrivals.find(({ message }) => message.body === body)?.at ?? Number.NaN,
    );
    return Math.max(...times);
  }

  close(): void {
    this.#socket.close();
  }
}
