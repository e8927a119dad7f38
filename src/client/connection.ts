import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { z } from 'zod';
import type {
  ClientToServerEvents,
  HandshakeAuth,
  MessagesEvent,
  ServerToClientEvents,
} from '../shared/protocol.ts';
import { messagesEventSchema } from '../shared/schemas.ts';
import type { Connectivity } from './connectivity.ts';
import { ManualConnectivity } from './connectivity.ts';
import { Listeners } from './listeners.ts';

/**
 * What the link to the server is doing. Each state carries only what is true in it.
 *
 *   connecting --connect--> connected --drop--> reconnecting --connect--> connected
 *       |                      |                    | attempts exhausted
 *       +-- handshake refused -+--> failed <--------+
 *   any --browser offline--> offline --browser online--> connecting
 */
export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected' }
  | { status: 'disconnected'; reason: string }
  | { status: 'reconnecting'; attempt: number }
  | { status: 'offline' }
  | { status: 'failed'; reason: string };

export type ConnectionStatus = ConnectionState['status'];

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface UntypedEmitter {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** Acks are validated against a schema, so requests go through this untyped view. */
interface UntypedRequester {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
}

export const RECONNECT_DELAY_MS = 1_000;
export const RECONNECT_DELAY_MAX_MS = 10_000;
/** Jitter of ±50% spreads a crowd of clients so a restarted server is not stampeded. */
export const RECONNECT_JITTER = 0.5;

export interface ConnectionOptions {
  url: string;
  /** The handshake credentials; read at every (re)connect. */
  auth: () => HandshakeAuth;
  connectivity?: Connectivity;
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** A malformed ack or event from the server. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * The link to the server: one socket.io socket whose own reconnection (exponential backoff
 * with jitter) does the retrying, plus the browser's online/offline signal, which
 * socket.io does not watch.
 */
export class Connection {
  readonly #socket: ClientSocket;
  readonly #connectivity: Connectivity;
  readonly #stateListeners = new Listeners<[ConnectionState]>();
  readonly #messageListeners = new Listeners<[MessagesEvent]>();
  readonly #disposers: (() => void)[] = [];
  #state: ConnectionState = { status: 'connecting' };
  #serverKickTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ConnectionOptions) {
    this.#connectivity = options.connectivity ?? new ManualConnectivity(true);
    this.#socket = io(options.url, {
      autoConnect: false,
      transports: ['websocket'],
      reconnectionDelay: RECONNECT_DELAY_MS,
      reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
      randomizationFactor: RECONNECT_JITTER,
      auth: (callback) => callback(options.auth()),
      ...options.socketOptions,
    });
    this.#wire();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state.status === 'connected';
  }

  subscribe(listener: (state: ConnectionState) => void): () => void {
    return this.#stateListeners.add(listener);
  }

  onMessages(listener: (event: MessagesEvent) => void): () => void {
    return this.#messageListeners.add(listener);
  }

  start(): void {
    if (!this.#connectivity.isOnline()) {
      this.#set({ status: 'offline' });
      return;
    }
    this.#set({ status: 'connecting' });
    this.#socket.connect();
  }

  /** Drops the link and opens a new one at once, with the backoff reset. */
  reconnectNow(): void {
    this.#clearKickTimer();
    this.#socket.disconnect();
    this.start();
  }

  /** Sends a request and validates its ack; rejects on timeout, disconnect or a bad ack. */
  async request<T>(
    event: keyof ClientToServerEvents,
    payload: unknown,
    schema: z.ZodType<T>,
    timeoutMs: number,
  ): Promise<T> {
    const raw = await (this.#socket as unknown as UntypedRequester)
      .timeout(timeoutMs)
      .emitWithAck(event, payload);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(`malformed ${event} ack: ${parsed.error.message}`);
    return parsed.data;
  }

  destroy(): void {
    this.#clearKickTimer();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#socket.disconnect();
    this.#stateListeners.clear();
    this.#messageListeners.clear();
  }

  #set(state: ConnectionState): void {
    this.#state = state;
    this.#stateListeners.emit(state);
  }

  #clearKickTimer(): void {
    if (this.#serverKickTimer) clearTimeout(this.#serverKickTimer);
    this.#serverKickTimer = null;
  }

  #wire(): void {
    const socket = this.#socket;
    const manager = socket.io;
    // Listeners go through an untyped emitter view so one helper can register and dispose
    // them all; the payloads that come from the server are validated by schema below.
    const on = <T extends unknown[]>(
      target: ClientSocket | ClientSocket['io'],
      event: string,
      fn: (...args: T) => void,
    ) => {
      const emitter = target as unknown as UntypedEmitter;
      emitter.on(event, fn as (...args: unknown[]) => void);
      this.#disposers.push(() => emitter.off(event, fn as (...args: unknown[]) => void));
    };

    on(socket, 'connect', () => this.#set({ status: 'connected' }));
    on(socket, 'disconnect', (reason: string) => {
      if (reason === 'io client disconnect') {
        if (this.#state.status !== 'offline' && this.#state.status !== 'failed') {
          this.#set({ status: 'disconnected', reason: 'closed by the app' });
        }
      } else if (reason === 'io server disconnect') {
        // socket.io does not reconnect after the server closed the socket on purpose
        // (a restart or a kick); come back after one backoff step rather than never.
        this.#set({ status: 'reconnecting', attempt: 1 });
        this.#serverKickTimer = setTimeout(() => this.start(), RECONNECT_DELAY_MS);
      } else {
        this.#set({ status: 'reconnecting', attempt: 0 });
      }
    });
    on(socket, 'connect_error', (error: Error & { data?: { message?: string } }) => {
      // An inactive socket after connect_error means the server's middleware said no:
      // retrying the same credentials would only be refused again.
      if (!socket.active)
        this.#set({ status: 'failed', reason: error.data?.message ?? error.message });
    });
    on(manager, 'reconnect_attempt', (attempt: number) =>
      this.#set({ status: 'reconnecting', attempt }),
    );
    on(manager, 'reconnect_failed', () =>
      this.#set({ status: 'failed', reason: 'the server could not be reached' }),
    );
    on(socket, 'messages', (payload: unknown) => {
      const parsed = messagesEventSchema.safeParse(payload);
      if (parsed.success) this.#messageListeners.emit(parsed.data);
    });
    this.#disposers.push(
      this.#connectivity.subscribe((online) => {
        if (online) {
          if (this.#state.status === 'offline') this.start();
          return;
        }
        this.#clearKickTimer();
        this.#set({ status: 'offline' });
        this.#socket.disconnect();
      }),
    );
  }
}
