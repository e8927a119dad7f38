import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { z } from 'zod';
import type {
  ClientToServerEvents,
  HandshakeAuth,
  MessagesEvent,
  ServerToClientEvents,
} from '../shared/protocol.ts';
import { messagesEventSchema, pingAckSchema } from '../shared/schemas.ts';
import { Backoff, type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';
import {
  type ConnectionEvent,
  type ConnectionState,
  INITIAL_CONNECTION_STATE,
  reduceConnection,
} from './connection-state.ts';
import { type Connectivity, ManualConnectivity } from './connectivity.ts';
import { Heartbeat } from './heartbeat.ts';
import { Listeners } from './listeners.ts';
import { ALWAYS_VISIBLE, type Visibility } from './visibility.ts';

export type { ConnectionState, ConnectionStatus } from './connection-state.ts';

/** Attempts before giving up (about 80 s with the default backoff); see README. */
export const MAX_RECONNECT_ATTEMPTS = 10;
/** A handshake that has not finished by then is abandoned and counts as a failed attempt. */
export const CONNECT_TIMEOUT_MS = 10_000;

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface UntypedEmitter {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** Acks are validated against a schema, so requests go through this untyped view. */
interface UntypedRequester {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
}

export interface ConnectionOptions {
  url: string;
  /** The handshake credentials; read at every (re)connect. */
  /**
   * The handshake credentials, read at every (re)connect once the transport is open (so
   * the server is reachable); may create the session first. A rejection fails the attempt.
   */
  auth: () => Promise<HandshakeAuth>;
  /** The server refused the handshake (bad or revoked session, for instance). */
  onRefused?: (refusal: { code: string | undefined; reason: string }) => void;
  connectivity?: Connectivity;
  visibility?: Visibility;
  backoff?: BackoffPolicy;
  maxAttempts?: number;
  connectTimeoutMs?: number;
  heartbeat?: { intervalMs?: number; timeoutMs?: number };
  clock?: () => number;
  random?: () => number;
  /** Extra socket.io options (tests shorten timeouts here). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** A malformed ack or event from the server. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * The link to the server. socket.io's own reconnection loop does the retrying, with
 * Ferry's Backoff installed in it; this class adds what socket.io lacks: the platform's
 * online/offline signal, page visibility, an application heartbeat, and an honest state.
 */
export class Connection {
  readonly #socket: ClientSocket;
  readonly #connectivity: Connectivity;
  readonly #visibility: Visibility;
  readonly #heartbeat: Heartbeat;
  readonly #clock: () => number;
  readonly #kickBackoff: Backoff;
  readonly #stateListeners = new Listeners<[ConnectionState]>();
  readonly #messageListeners = new Listeners<[MessagesEvent]>();
  readonly #disposers: (() => void)[] = [];
  #state: ConnectionState = INITIAL_CONNECTION_STATE;
  #kickTimer: ReturnType<typeof setTimeout> | null = null;
  #started = false;
  #authError: string | null = null;
  readonly #onRefused: ConnectionOptions['onRefused'];

  constructor(options: ConnectionOptions) {
    this.#connectivity = options.connectivity ?? new ManualConnectivity(true);
    this.#visibility = options.visibility ?? ALWAYS_VISIBLE;
    this.#clock = options.clock ?? Date.now;
    this.#onRefused = options.onRefused;
    const policy = options.backoff ?? DEFAULT_BACKOFF;
    const maxAttempts = options.maxAttempts ?? MAX_RECONNECT_ATTEMPTS;
    this.#socket = io(options.url, {
      autoConnect: false,
      transports: ['websocket'],
      reconnectionAttempts: maxAttempts,
      reconnectionDelay: policy.minMs,
      reconnectionDelayMax: policy.maxMs,
      randomizationFactor: policy.jitter,
      timeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      auth: (callback) => {
        options.auth().then(callback, (error: unknown) => {
          // Without credentials the server refuses the handshake; keep the real reason.
          this.#authError = error instanceof Error ? error.message : String(error);
          callback({});
        });
      },
      ...options.socketOptions,
    });
    // socket.io reports no delay with its reconnect events, so Ferry's Backoff replaces the
    // Manager's (same interface): socket.io still schedules, and each delay is reported.
    const backoff = new Backoff(policy, {
      random: options.random,
      onDelay: (attempt, delayMs) =>
        this.#dispatch({ type: 'retry_scheduled', attempt, delayMs, now: this.#clock() }),
    });
    (this.#socket.io as unknown as { backoff: Backoff }).backoff = backoff;
    this.#kickBackoff = new Backoff(policy, { random: options.random });
    this.#heartbeat = new Heartbeat({
      ...options.heartbeat,
      ping: async (timeoutMs) => {
        const sentAt = this.#clock();
        await this.request('ping', { sentAt }, pingAckSchema, timeoutMs);
        return this.#clock() - sentAt;
      },
      onRtt: (rttMs) => {
        this.#kickBackoff.reset();
        this.#dispatch({ type: 'rtt_measured', rttMs });
      },
      onDead: () => this.reconnectNow(),
    });
    this.#wire(maxAttempts);
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

  /** Connects unless the platform reports no network. */
  start(): void {
    this.#started = true;
    if (!this.#connectivity.isOnline()) {
      this.#dispatch({ type: 'went_offline' });
      return;
    }
    this.#open();
  }

  /** Drops the link and opens a new one at once, with the backoff reset ("retry now"). */
  reconnectNow(): void {
    this.#started = true;
    this.#socket.disconnect();
    this.#open();
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
    this.#heartbeat.stop();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#socket.disconnect();
    this.#dispatch({ type: 'closed' });
    this.#stateListeners.clear();
    this.#messageListeners.clear();
  }

  #open(): void {
    this.#clearKickTimer();
    this.#dispatch({ type: 'connect_requested' });
    this.#socket.connect();
  }

  #dispatch(event: ConnectionEvent): void {
    const next = reduceConnection(this.#state, event);
    if (next === this.#state) return;
    this.#state = next;
    if (next.status === 'connected' && this.#visibility.isVisible()) this.#heartbeat.start();
    if (next.status !== 'connected') this.#heartbeat.stop();
    this.#stateListeners.emit(next);
  }

  #clearKickTimer(): void {
    if (this.#kickTimer) clearTimeout(this.#kickTimer);
    this.#kickTimer = null;
  }

  #wire(maxAttempts: number): void {
    const socket = this.#socket;
    // One helper registers every listener and records its disposer; payloads that come
    // from the server are validated by schema, so the emitter is used untyped.
    const on = (
      target: ClientSocket | ClientSocket['io'],
      event: string,
      fn: (...args: never[]) => void,
    ) => {
      const emitter = target as unknown as UntypedEmitter;
      const listener = fn as (...args: unknown[]) => void;
      emitter.on(event, listener);
      this.#disposers.push(() => emitter.off(event, listener));
    };

    on(socket, 'connect', () => this.#dispatch({ type: 'connected' }));
    on(socket, 'disconnect', (reason: string) => {
      if (reason === 'io client disconnect') return; // ours: the caller set the state
      this.#dispatch({ type: 'link_lost', reason });
      if (reason === 'io server disconnect') {
        // socket.io does not come back after the server closed the socket on purpose (a
        // restart, a failed batch); come back after a backoff step rather than never.
        const delayMs = this.#kickBackoff.duration();
        this.#dispatch({
          type: 'retry_scheduled',
          attempt: this.#kickBackoff.attempts,
          delayMs,
          now: this.#clock(),
        });
        this.#kickTimer = setTimeout(() => this.#open(), delayMs);
      }
    });
    on(socket, 'connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      const authError = this.#authError;
      this.#authError = null;
      // An inactive socket after connect_error means the server's middleware said no:
      // the same credentials would only be refused again, so do not retry by ourselves.
      if (socket.active) return;
      const reason = authError ?? error.data?.message ?? error.message;
      this.#onRefused?.({ code: error.data?.code, reason });
      this.#dispatch({ type: 'handshake_refused', reason });
    });
    on(socket.io, 'reconnect_failed', () =>
      this.#dispatch({ type: 'attempts_exhausted', attempts: maxAttempts }),
    );
    on(socket, 'messages', (payload: unknown) => {
      const parsed = messagesEventSchema.safeParse(payload);
      // A malformed event is dropped; the seq gap it leaves is filled by catch-up.
      if (parsed.success) this.#messageListeners.emit(parsed.data);
    });

    this.#disposers.push(
      this.#connectivity.subscribe((online) => {
        if (!this.#started) return;
        if (online) {
          if (this.#state.status !== 'connected') this.reconnectNow();
          return;
        }
        this.#clearKickTimer();
        this.#dispatch({ type: 'went_offline' });
        socket.disconnect();
      }),
      this.#visibility.subscribe((visible) => {
        if (!visible) {
          this.#heartbeat.stop();
          return;
        }
        if (this.#state.status === 'connected') {
          this.#heartbeat.start();
          this.#heartbeat.pingNow();
        } else if (this.#started && this.#connectivity.isOnline()) {
          this.reconnectNow();
        }
      }),
    );
  }
}
