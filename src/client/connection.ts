import { io } from 'socket.io-client';
import type { z } from 'zod/mini';
import { clampRetryAfterMs } from '../shared/limits.ts';
import {
  type ClientToServerEvents,
  type HeadEvent,
  type MessagesEvent,
  PROTOCOL_VERSION,
  type ReceiptsEvent,
  type TypingEvent,
} from '../shared/protocol.ts';
import {
  errorCodeSchema,
  headEventSchema,
  messagesEventSchema,
  pingAckSchema,
  receiptsEventSchema,
  typingEventSchema,
} from '../shared/schemas.ts';
import { Backoff, DEFAULT_BACKOFF } from './backoff.ts';
import {
  type ClientSocket,
  type ConnectionOptions,
  ProtocolError,
  type SocketFactory,
} from './connection-options.ts';
import {
  type ConnectionEvent,
  type ConnectionState,
  INITIAL_CONNECTION_STATE,
  reduceConnection,
} from './connection-state.ts';
import { type Connectivity, ManualConnectivity } from './connectivity.ts';
import { Heartbeat } from './heartbeat.ts';
import { Listeners } from './listeners.ts';
import { watchOpenings } from './opening-watch.ts';
import { NotConnectedError, RequestTracker } from './request-tracker.ts';
import { SignUpRefusedError } from './session-client.ts';
import { installBackoff } from './socketio-backoff.ts';
import { type TimerHandle, type Timers, timersWithClock } from './timers.ts';
import { ALWAYS_VISIBLE, type Visibility } from './visibility.ts';

export type { ConnectionOptions } from './connection-options.ts';
export type { ConnectionState, ConnectionStatus } from './connection-state.ts';

/**
 * Attempts before giving up: about 80 s on average with the default backoff (its delays
 * are drawn from [0, base], so 14 attempts wait as long as 10 did when they were drawn from
 * [½, 1] × base); see README.
 */
export const MAX_RECONNECT_ATTEMPTS = 14;
/** A handshake that has not finished by then is abandoned and counts as a failed attempt. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a request may wait in silence (no ack for anything) before the link is presumed
 * half-open. The heartbeat's ping has a shorter one (see heartbeat.ts); behind a queue of
 * batches on a slow uplink it still lives, as long as their acks keep coming.
 */
export const REQUEST_TIMEOUT_MS = 15_000;

interface UntypedEmitter {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
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
  readonly #timers: Timers;
  readonly #requests: RequestTracker;
  readonly #requestTimeoutMs: number;
  readonly #kickBackoff: Backoff;
  readonly #openings: ReturnType<typeof watchOpenings>;
  readonly #stateListeners = new Listeners<[ConnectionState]>();
  readonly #messageListeners = new Listeners<[MessagesEvent]>();
  readonly #headListeners = new Listeners<[HeadEvent]>();
  readonly #typingListeners = new Listeners<[TypingEvent]>();
  readonly #receiptListeners = new Listeners<[ReceiptsEvent]>();
  readonly #disposers: (() => void)[] = [];
  #state: ConnectionState = INITIAL_CONNECTION_STATE;
  #kickTimer: TimerHandle | null = null;
  #started = false;
  /** Why the credentials could not be had for this attempt, if they could not. */
  #authError: { reason: string; transient: boolean } | null = null;
  readonly #onRefused: ConnectionOptions['onRefused'];

  constructor(options: ConnectionOptions) {
    this.#connectivity = options.connectivity ?? new ManualConnectivity(true);
    this.#visibility = options.visibility ?? ALWAYS_VISIBLE;
    this.#timers = options.timers ?? timersWithClock(options.clock);
    this.#requests = new RequestTracker(this.#timers);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#onRefused = options.onRefused;
    const policy = options.backoff ?? DEFAULT_BACKOFF;
    const maxAttempts = options.maxAttempts ?? MAX_RECONNECT_ATTEMPTS;
    const createSocket: SocketFactory = options.createSocket ?? io;
    const protocol = options.protocolVersion ?? PROTOCOL_VERSION;
    this.#socket = createSocket(options.url, {
      autoConnect: false,
      transports: ['websocket'],
      reconnectionAttempts: maxAttempts,
      reconnectionDelay: policy.minMs,
      reconnectionDelayMax: policy.maxMs,
      randomizationFactor: policy.jitter,
      timeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      auth: (callback) => {
        options.auth().then(
          (auth) => callback({ ...auth, protocol }),
          (error: unknown) => {
            // Without credentials the server refuses the handshake; keep the real reason, and
            // whether it was a refusal or only a server that could not be reached.
            this.#authError = {
              reason: error instanceof Error ? error.message : String(error),
              transient: !(error instanceof SignUpRefusedError),
            };
            callback({ protocol });
          },
        );
      },
      ...options.socketOptions,
    });
    installBackoff(
      this.#socket.io,
      new Backoff(policy, {
        random: options.random,
        onDelay: (attempt, delayMs) =>
          this.#dispatch({ type: 'retry_scheduled', attempt, delayMs, now: this.#timers.now() }),
      }),
    );
    this.#kickBackoff = new Backoff(policy, { random: options.random });
    this.#openings = watchOpenings(this.#socket.io);
    this.#disposers.push(this.#openings.dispose);
    this.#heartbeat = new Heartbeat({
      ...options.heartbeat,
      timers: this.#timers,
      ping: async (timeoutMs) => {
        const sentAt = this.#timers.now();
        await this.request('ping', { sentAt }, pingAckSchema, timeoutMs);
        return this.#timers.now() - sentAt;
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

  /** The server's word on a room's newest seq. */
  onHead(listener: (event: HeadEvent) => void): () => void {
    return this.#headListeners.add(listener);
  }

  /** Someone in a room this tab joined is typing. */
  onTyping(listener: (event: TypingEvent) => void): () => void {
    return this.#typingListeners.add(listener);
  }

  /** A member's read cursors moved in a room this tab joined (the user's own too). */
  onReceipts(listener: (event: ReceiptsEvent) => void): () => void {
    return this.#receiptListeners.add(listener);
  }

  /**
   * Says the user is typing in `room`, if the link is up: volatile, so it is never queued
   * for a later link (where it would be a lie), and it carries no ack.
   */
  notifyTyping(room: string): void {
    if (this.#socket.connected) this.#socket.volatile.emit('typing', { room });
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

  /**
   * Sends a request and validates its ack. Rejects at once when the socket is not connected
   * (socket.io would buffer it and replay it on the next link, ahead of whatever Ferry
   * sends first there), when the link drops, when it stays silent for `timeoutMs` (see
   * RequestTracker), and on a malformed ack.
   */
  async request<T>(
    event: keyof ClientToServerEvents,
    payload: unknown,
    schema: z.ZodMiniType<T>,
    timeoutMs: number = this.#requestTimeoutMs,
  ): Promise<T> {
    if (!this.#socket.connected) throw new NotConnectedError(`${event}: not connected`);
    const socket = this.#socket as unknown as UntypedEmitter;
    const raw = await this.#requests.track(timeoutMs, (answer) => {
      socket.emit(event, payload, answer);
    });
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(`malformed ${event} ack: ${parsed.error.message}`);
    return parsed.data;
  }

  destroy(): void {
    this.#clearKickTimer();
    this.#heartbeat.stop();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#socket.disconnect();
    this.#dropUnsent('closed');
    this.#dispatch({ type: 'closed' });
    this.#stateListeners.clear();
    this.#messageListeners.clear();
    this.#headListeners.clear();
    this.#typingListeners.clear();
    this.#receiptListeners.clear();
  }

  #open(): void {
    // Every attempt would be refused the same way; only a reload (a newer build) helps.
    if (this.#state.status === 'upgrade_required') return;
    this.#clearKickTimer();
    this.#dispatch({ type: 'connect_requested' });
    this.#socket.connect();
    this.#openings.afterOpen();
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
    if (this.#kickTimer !== null) this.#timers.clearTimeout(this.#kickTimer);
    this.#kickTimer = null;
  }

  /**
   * Nothing Ferry sent survives its link. socket.io-client keeps packets emitted while its
   * link was not writable (a page frozen past the ping deadline emits into that buffer)
   * and sends them on the next connect before Ferry hears of it, ahead of the outbox head:
   * drop them, and fail every request still waiting, so the flusher resends in order.
   */
  #dropUnsent(reason: string): void {
    this.#socket.sendBuffer.length = 0;
    this.#requests.failAll(reason);
  }

  /**
   * The server could not be reached for a reason that may pass (sign-up unreachable, a
   * server error): come back after a backoff step, never in a hot loop, never stuck.
   */
  #retryLater(reason: string, minDelayMs = 0): void {
    this.#dispatch({ type: 'link_lost', reason });
    const delayMs = Math.max(this.#kickBackoff.duration(), minDelayMs);
    this.#dispatch({
      type: 'retry_scheduled',
      attempt: this.#kickBackoff.attempts,
      delayMs,
      now: this.#timers.now(),
    });
    this.#clearKickTimer();
    this.#kickTimer = this.#timers.setTimeout(() => this.#open(), delayMs);
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
      this.#dropUnsent(reason);
      if (reason === 'io client disconnect') return; // ours: the caller set the state
      // socket.io does not come back after the server closed the socket on purpose (a
      // restart, a failed batch); come back after a backoff step rather than never.
      if (reason === 'io server disconnect') this.#retryLater(reason);
      else this.#dispatch({ type: 'link_lost', reason });
    });
    on(
      socket,
      'connect_error',
      (error: Error & { data?: { code?: unknown; message?: string; retryAfterMs?: unknown } }) => {
        const authError = this.#authError;
        this.#authError = null;
        // An active socket is still in socket.io's own reconnection loop.
        if (socket.active) return;
        // Inactive: the server's middleware said no. A code this build does not know reads as
        // `internal` (see errorCodeSchema).
        const rawCode = error.data?.code;
        const code = typeof rawCode === 'string' ? errorCodeSchema.parse(rawCode) : undefined;
        const serverReason = error.data?.message ?? error.message;
        if (code === 'upgrade_required') {
          this.#clearKickTimer();
          this.#dispatch({ type: 'upgrade_required', reason: serverReason });
          return;
        }
        // Too many sockets for this user (other tabs, stale links the server has not
        // noticed yet): a slot frees by itself, so wait as asked, then try again.
        if (!authError && code === 'rate_limited') {
          const retryAfterMs = error.data?.retryAfterMs;
          const waitMs = clampRetryAfterMs(typeof retryAfterMs === 'number' ? retryAfterMs : 0);
          this.#retryLater(serverReason, waitMs);
          return;
        }
        // A refusal (a bad session) would only be refused again, so wait for the user;
        // trouble that may pass is retried.
        if (authError?.transient || (!authError && code === 'internal')) {
          this.#retryLater(authError?.reason ?? serverReason);
          return;
        }
        const reason = authError?.reason ?? serverReason;
        this.#onRefused?.({ code, reason });
        this.#dispatch({ type: 'handshake_refused', reason });
      },
    );
    on(socket.io, 'reconnect_failed', () =>
      this.#dispatch({ type: 'attempts_exhausted', attempts: maxAttempts }),
    );
    on(socket, 'messages', (payload: unknown) => {
      const parsed = messagesEventSchema.safeParse(payload);
      // A malformed event is dropped; the seq gap it leaves is filled by catch-up.
      if (parsed.success) this.#messageListeners.emit(parsed.data);
    });
    on(socket, 'head', (payload: unknown) => {
      const parsed = headEventSchema.safeParse(payload);
      if (parsed.success) this.#headListeners.emit(parsed.data);
    });
    on(socket, 'typing', (payload: unknown) => {
      const parsed = typingEventSchema.safeParse(payload);
      if (parsed.success) this.#typingListeners.emit(parsed.data);
    });
    on(socket, 'receipts', (payload: unknown) => {
      const parsed = receiptsEventSchema.safeParse(payload);
      if (parsed.success) this.#receiptListeners.emit(parsed.data);
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
