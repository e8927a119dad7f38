import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { MAX_PACKET_BYTES } from '../shared/limits.ts';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from './flood-limits.ts';
import { gateHttp } from './http-gate.ts';
import { createHttpHandler } from './http-handler.ts';
import { type Logger, silentLogger } from './logger.ts';
import { createMessagesApi } from './messages-api.ts';
import { createServerMetrics, NO_METRICS } from './metrics.ts';
import { createMetricsRoute } from './metrics-route.ts';
import { createOriginCheck } from './origin-check.ts';
import { createReadinessRoute, type ReadinessCheck, storeCheck } from './readiness.ts';
import { attachRealtime, type FerryIo, sessionRoom } from './realtime.ts';
import { hashSecret } from './secrets.ts';
import { createSendHandler } from './send-handler.ts';
import { createSessionApi } from './session-api.ts';
import { SlotsPerKey } from './slots.ts';
import type { AccountStore } from './store/account-store.ts';
import type { MessageStore } from './store/message-store.ts';
import { SqliteAccountStore } from './store/sqlite-accounts.ts';
import {
  DEFAULT_MESSAGE_RATE,
  localRateBuckets,
  type RateBucketsFactory,
  type RateLimit,
  TokenBuckets,
} from './token-bucket.ts';

/**
 * socket.io's heartbeat. A phone's radio sleeps between packets, so pinging every few
 * seconds drains the battery; 25 s (socket.io's default) keeps NAT mappings alive. The
 * 10 s timeout finds a dead link within 35 s; the client's faster application ping (see
 * README, "Connection states") finds it sooner while the app is in the foreground.
 */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 10_000;
/** Sign-ups per client address: a burst of 20, then 10 a minute. */
export const DEFAULT_SIGNUP_RATE: RateLimit = { capacity: 20, refillPerMinute: 10 };

/**
 * How long a shutdown lets the sockets it disconnected close their connections before it
 * cuts those still open: a client that reads answers within a round trip.
 */
const SOCKET_LINGER_MS = 1_000;

/** Resolves once every connection of `connections` has closed, or after `ms`. */
function allClosed(connections: Set<Socket>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = Date.now() + ms;
    const poll = () => {
      if (connections.size === 0 || Date.now() >= deadline) resolve();
      else setTimeout(poll, 20);
    };
    poll();
  });
}

export interface FerryServerOptions {
  store: MessageStore;
  /** Users, sessions and private rooms; an in-memory SQLite store when omitted. */
  accounts?: AccountStore;
  /** The built app; nothing is served but /healthz and the API when it is missing. */
  staticDir?: string;
  /** Per-user message budget. */
  messageRate?: RateLimit;
  signupRate?: RateLimit;
  /**
   * Where the message and sign-up budgets are counted: in this process when omitted; in
   * Redis, shared by every process, with FERRY_REDIS_URL (see redis-buckets.ts).
   */
  rateBuckets?: RateBucketsFactory;
  /** Caps on sockets, rooms, requests and pending output; see DEFAULT_FLOOD_LIMITS. */
  floodLimits?: Partial<FloodLimits>;
  /** Origins besides the server's own that may open a socket (e.g. a dev server). */
  allowedOrigins?: readonly string[];
  clock?: () => number;
  /** Where the server's JSON lines go (main.ts's, see logger.ts); nothing is logged when omitted. */
  logger?: Logger;
  /**
   * `GET /metrics` and the counting behind it (on when omitted). A registry of this
   * server's own: several servers in one process count apart.
   */
  metrics?: boolean;
  /** A bearer token `GET /metrics` asks for (FERRY_METRICS_TOKEN); open when omitted. */
  metricsToken?: string | null;
  socketOptions?: Partial<ServerOptions>;
  /**
   * socket.io's adapter: how a broadcast reaches the sockets of other processes (Redis
   * Streams with FERRY_REDIS_URL, see redis-fanout.ts). This process's own sockets only
   * when omitted. `close()` stops the adapter; the connections under it are the caller's.
   */
  adapter?: ServerOptions['adapter'];
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
  /** Mean time between head checks (see room-heads.ts); HEAD_CHECK_MS when omitted. */
  headCheckMs?: number;
  /** Extra GET routes, tried before the API and the app; answers true when it handled one. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * What `GET /readyz` checks besides the store's `ping()` (see readiness.ts): the Redis
   * links, which it reports without being unready.
   */
  readiness?: readonly ReadinessCheck[];
}

export interface FerryServer {
  http: HttpServer;
  io: FerryIo;
  accounts: AccountStore;
  /** Resolves with the bound address once the server accepts connections. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Tells this process's clients the newest seq of each of their rooms, so that they fetch
   * what they missed: call it when the fan-out between processes is back after an outage.
   */
  tellRoomHeads(): Promise<void>;
  /** Revokes a session by its token and disconnects its live sockets. */
  revokeSession(token: string): Promise<boolean>;
  /** Disconnects every socket and stops listening. The stores are the caller's to close. */
  close(): Promise<void>;
  /**
   * The graceful stop: stops taking connections and requests, lets every request already
   * taken finish (batches committed and acked) for up to `graceMs`, then disconnects every
   * socket (clients back off and reconnect, to another process or to this one restarted)
   * and stops listening. `drained` is false when the grace ran out first. The stores are
   * the caller's to close.
   */
  shutdown(graceMs: number): Promise<{ drained: boolean }>;
}

/** Builds the HTTP + socket.io server over its stores, without listening yet. */
export function createFerryServer(options: FerryServerOptions): FerryServer {
  const clock = options.clock ?? Date.now;
  const log = options.logger ?? silentLogger;
  // `io` is read at each scrape only, once it exists.
  const metrics =
    options.metrics === false ? NO_METRICS : createServerMetrics(() => io.of('/').sockets.size);
  const serveMetrics =
    options.metrics === false
      ? () => false
      : createMetricsRoute(metrics, options.metricsToken ?? null);
  const stopCountingCommits =
    options.metrics === false
      ? undefined
      : options.store.observeCommits?.((stats) => metrics.commit(stats));
  const accounts = options.accounts ?? new SqliteAccountStore(':memory:');
  const disconnectSession = (tokenHash: string) =>
    io.in(sessionRoom(tokenHash)).disconnectSockets(true);

  const limits: FloodLimits = { ...DEFAULT_FLOOD_LIMITS, ...options.floodLimits };
  const originAllowed = createOriginCheck(options.allowedOrigins ?? []);
  const rateBuckets =
    options.rateBuckets ?? ((_name: string, limit: RateLimit) => localRateBuckets(limit, clock));
  // One send handler, and so one per-user message budget, for the sockets and for
  // `POST /api/messages`: a user cannot double their rate by sending both ways.
  const handleSend = createSendHandler({
    store: options.store,
    messageRate: rateBuckets('messages', options.messageRate ?? DEFAULT_MESSAGE_RATE),
    clock,
    metrics,
  });
  const handleSessionApi = createSessionApi({
    accounts,
    signupRate: rateBuckets('signups', options.signupRate ?? DEFAULT_SIGNUP_RATE),
    onRevoked: disconnectSession,
    originAllowed,
    clock,
  });
  const handleMessagesApi = createMessagesApi({
    accounts,
    handleSend,
    broadcast: (room, messages) => io.to(room).emit('messages', { room, messages }),
    sendsInFlight: new SlotsPerKey(limits.maxHttpSendsPerUser),
    refusedTokens: new TokenBuckets(limits.refusedTokenRate, clock),
    log,
  });
  const extraRoutes = options.extraRoutes;
  const handleReadiness = createReadinessRoute(
    [storeCheck(options.store), ...(options.readiness ?? [])],
    // readiness.ts says when the process goes unready and back, one line each.
    log,
  );
  const httpGate = gateHttp(
    createHttpHandler(
      options.staticDir ?? '',
      (req, res) =>
        (extraRoutes?.(req, res) ?? false) ||
        serveMetrics(req, res) ||
        handleReadiness(req, res) ||
        handleSessionApi(req, res) ||
        handleMessagesApi(req, res),
    ),
  );
  const handler = httpGate.handler;
  /** Set once a shutdown starts: no new socket, no new request. */
  let shuttingDown = false;
  const http: HttpServer = options.tls
    ? createHttpsServer(options.tls, handler)
    : createServer(handler);
  /** Open TCP connections, so that a shutdown can end those that outlive their sockets. */
  const connections = new Set<Socket>();
  http.on('connection', (connection: Socket) => {
    connections.add(connection);
    connection.once('close', () => connections.delete(connection));
  });
  const io: FerryIo = new Server(http, {
    serveClient: false,
    // socket.io's 1 MB default would let any client make the server buffer a megabyte.
    maxHttpBufferSize: MAX_PACKET_BYTES,
    pingInterval: PING_INTERVAL_MS,
    pingTimeout: PING_TIMEOUT_MS,
    // Connection-state recovery stays off: it would skip the auth middleware on resume.
    allowRequest: (req, callback) => {
      if (shuttingDown) {
        callback('the server is shutting down', false);
        return;
      }
      const allowed = originAllowed(req);
      callback(allowed ? null : 'origin not allowed', allowed);
    },
    ...(options.adapter ? { adapter: options.adapter } : {}),
    ...options.socketOptions,
  });
  const realtime = attachRealtime(io, {
    store: options.store,
    accounts,
    handleSend,
    limits,
    clock,
    log,
    metrics,
    headCheckMs: options.headCheckMs,
  });

  return {
    http,
    io,
    accounts,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve(http.address() as AddressInfo);
        });
      });
    },
    tellRoomHeads: () => realtime.tellRoomHeads(),
    async revokeSession(token) {
      const tokenHash = hashSecret(token);
      const revoked = await accounts.revokeSession(tokenHash, clock());
      if (revoked) disconnectSession(tokenHash);
      return revoked;
    },
    async shutdown(graceMs) {
      shuttingDown = true;
      // No new connection; those open stay until their sockets are dropped below.
      http.close(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const finished = Promise.all([realtime.drain(), httpGate.stop()]).then(() => true);
      const drained = await Promise.race([finished, graceOver]);
      clearTimeout(timer);
      // Closed this way, each socket first writes out what it still holds (its last acks);
      // closing the server at once would discard engine.io's write buffers.
      io.disconnectSockets(true);
      await allClosed(connections, SOCKET_LINGER_MS);
      // What is left is a peer that does not read (a phone gone out of coverage): the
      // WebSocket closing handshake would wait 30 s for its answer.
      for (const connection of connections) connection.destroy();
      await this.close();
      return { drained };
    },
    close() {
      realtime.close();
      stopCountingCommits?.();
      return new Promise((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
