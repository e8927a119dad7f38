// One client of the reconnect storm (reconnect-storm.ts): Ferry's own Connection, so the
// reconnects follow Ferry's backoff and socket.io settings, and Ferry's CatchUp for the
// pages missed; only the local store is left out (a cursor in memory stands for it).
import { Manager } from 'socket.io-client';
import { CatchUp } from '../src/client/catch-up.ts';
import { Connection } from '../src/client/connection.ts';
import type { ClientSocket, SocketFactory } from '../src/client/connection-options.ts';
import { MAX_HISTORY_PAGE } from '../src/shared/limits.ts';
import type { LogEntry, Session } from '../src/shared/protocol.ts';
import { historyAckSchema, joinAckSchema } from '../src/shared/schemas.ts';

/**
 * A socket factory for Connection that moves to the next of `urls` on every reconnect
 * attempt, as a load balancer sends a client whose node went away to another: the first
 * connect goes to `urls[0]`. `onAttempt` hears of each attempt as it starts.
 */
function rotatingSocket(urls: readonly string[], onAttempt: () => void): SocketFactory {
  const origins = urls.map((url) => new URL(url));
  return (_url, options) => {
    let next = 0;
    const at = (index: number) => {
      const origin = origins[index % origins.length] as URL;
      return { hostname: origin.hostname, port: origin.port, secure: origin.protocol === 'https:' };
    };
    // Built from host and port rather than a URL: a Manager made from a URL parses it
    // again for every attempt, so its `opts` could not send it elsewhere.
    const manager = new Manager({ ...options, ...at(next) });
    manager.on('reconnect_attempt', () => {
      next += 1;
      Object.assign(manager.opts, at(next));
      onAttempt();
    });
    // Manager.socket is untyped; this is the socket `io()` would have made.
    return manager.socket('/', options) as unknown as ClientSocket;
  };
}

/** A member of one room that reconnects, rejoins and catches up the way Ferry's client does. */
export class StormClient {
  /**
   * When Ferry's backoff scheduled each reconnect attempt (performance.now() of the
   * scheduling plus the delay it drew): the storm as the backoff shapes it, before this
   * process's busy event loop fires the timers late, which 1,000 real devices would not.
   */
  readonly scheduledAt: number[] = [];
  /** performance.now() of every reconnect attempt as it started (the timer fired). */
  readonly attemptsAt: number[] = [];
  /** performance.now() of every completed handshake (connect), the first one included. */
  readonly connectsAt: number[] = [];
  /** Why a join or a page was refused, if one was (the client then waits for the next link). */
  lastError: string | null = null;
  readonly room: string;
  readonly #connection: Connection;
  readonly #catchUp: CatchUp;
  /** Every seq up to here is held; `#reachedAt` says when each step was taken. */
  #cursor = 0;
  /** The newest seq the server has named (a join, a page, a live message). */
  #head = 0;
  readonly #reachedAt: { seq: number; atMs: number }[] = [];
  #synced = false;

  constructor(urls: readonly string[], session: Session, room: string) {
    this.room = room;
    this.#connection = new Connection({
      url: urls[0] as string,
      auth: async () => ({ token: session.token }),
      // The connection's clock dates the retries it schedules; the bench times on this one.
      clock: () => performance.now(),
      createSocket: rotatingSocket(urls, () => this.attemptsAt.push(performance.now())),
    });
    this.#catchUp = new CatchUp({
      pageSize: MAX_HISTORY_PAGE,
      cursorOf: () => this.#cursor,
      hasGap: () => this.#head > this.#cursor,
      fetchPage: (pageRoom, after) => this.#page(pageRoom, after),
      storePage: async (_room, messages) => this.#hold(messages),
      onProgress: () => {},
    });
    let wasConnected = false;
    this.#connection.subscribe((state) => {
      if (state.status === 'reconnecting') this.scheduledAt.push(state.nextRetryAt);
      const connected = state.status === 'connected';
      if (connected && !wasConnected) {
        this.connectsAt.push(performance.now());
        this.#sync().catch((error: unknown) => {
          // The link dropped meanwhile, or the join was refused: the next connect tries again.
          this.lastError = error instanceof Error ? error.message : String(error);
        });
      }
      if (!connected) this.#synced = false;
      wasConnected = connected;
    });
    this.#connection.onMessages((event) => {
      if (event.room !== room) return;
      const last = event.messages.at(-1)?.seq ?? 0;
      this.#head = Math.max(this.#head, last);
      // In order: held at once. Past a hole: the pages from the cursor fill it.
      if ((event.messages[0]?.seq ?? 0) <= this.#cursor + 1) this.#hold(event.messages);
      if (this.#head > this.#cursor) void this.#catchUp.run(room);
    });
  }

  /** Connected, joined and caught up as of the join, on the current link. */
  get synced(): boolean {
    return this.#synced;
  }

  get cursor(): number {
    return this.#cursor;
  }

  /** When the cursor first reached `seq` (performance.now()), or null if it has not. */
  reachedAt(seq: number): number | null {
    return this.#reachedAt.find((step) => step.seq >= seq)?.atMs ?? null;
  }

  start(): void {
    this.#connection.start();
  }

  destroy(): void {
    this.#connection.destroy();
  }

  /** Run on every connect: joins the room, then fetches what the cursor lacks. */
  async #sync(): Promise<void> {
    const joined = await this.#connection.request('join', { room: this.room }, joinAckSchema);
    if (!joined.ok) throw new Error(`join refused: ${joined.error.message}`);
    this.#head = Math.max(this.#head, joined.latestSeq);
    await this.#catchUp.run(this.room);
    this.#synced = this.#connection.connected && this.#cursor >= joined.latestSeq;
  }

  async #page(room: string, after: number) {
    const ack = await this.#connection.request(
      'history',
      { room, after, limit: MAX_HISTORY_PAGE },
      historyAckSchema,
    );
    if (!ack.ok) {
      this.lastError = `history refused: ${ack.error.message}`;
      throw new Error(this.lastError);
    }
    this.#head = Math.max(this.#head, ack.latestSeq);
    return { messages: ack.messages, latestSeq: ack.latestSeq };
  }

  /** Moves the cursor over the messages that continue it (ascending, as pages and events are). */
  #hold(messages: readonly LogEntry[]): void {
    const before = this.#cursor;
    for (const message of messages) {
      if (message.seq === this.#cursor + 1) this.#cursor = message.seq;
    }
    if (this.#cursor > before) this.#reachedAt.push({ seq: this.#cursor, atMs: performance.now() });
  }
}
