import type { RateLimit } from './token-bucket.ts';

const MIB = 1024 * 1024;

/**
 * What one account, or one client address, may ask of the server (its sockets and
 * `POST /api/messages`), so that it cannot move the server's memory or hold its event loop
 * by more than a bounded amount (see docs/security.md, "Limits on one account").
 */
export interface FloodLimits {
  /**
   * Live sockets of one user: one per tab, plus the stale one each tab's dropped link leaves
   * behind for up to 35 s (the heartbeat's interval plus its timeout).
   */
  maxSocketsPerUser: number;
  /** Rooms one socket may have joined at once; `leave` (or a reconnect) frees a slot. */
  maxRoomsPerSocket: number;
  /** Private rooms one user may create per hour (a burst of as many, then a steady refill). */
  roomsCreatedPerHour: number;
  /** `join` and `leave` requests per user (one budget). */
  joinRate: RateLimit;
  /** `history` pages per user. */
  historyRate: RateLimit;
  /** `receipt` requests per user (each one a write). */
  receiptRate: RateLimit;
  /**
   * Bytes the server may hold for one socket, written but not yet taken by the network.
   * Past it the socket's next request waits for the client to read; past four times it,
   * the socket is dropped at once.
   */
  maxOutboundBytes: number;
  /** A socket whose pending output has not gone down for this long reads nothing: dropped. */
  outboundStallMs: number;
  /**
   * `POST /api/messages` requests one user may have in flight, each holding up to a packet
   * of body: the socket's one-request-at-a-time, over HTTP.
   */
  maxHttpSendsPerUser: number;
  /**
   * Bearer tokens `POST /api/messages` may refuse per client address: each refusal cost an
   * account lookup, and once the budget is spent the address is refused before any.
   */
  refusedTokenRate: RateLimit;
}

/**
 * Defaults that no real user meets. 24 sockets are a dozen tabs, each with the socket a
 * network switch left behind beside its new one (a laptop moving from Wi-Fi to a tether
 * reconnects every tab at once). Ferry's client joins each open room once per connect
 * (500 joins cover a hundred rooms over five quick reconnects, and 10 a second refill it),
 * and pages a catch-up 500 messages at a time, one page per room in flight: about 25 pages
 * a second in Chromium (docs/benchmarks.md), so 600 pages at once (300,000 messages) and
 * then 30 a second never slow it down. A client needs to say where its user has got in a
 * room about once a second per room while that moves, and once per room after a catch-up:
 * 1,000 receipts at once (a reconnect with every open room behind), then 30 a second. The
 * service worker posts one batch at a time; the second HTTP slot is for its retry of a
 * post it gave up on, which the server may still be finishing. A real client meets a refused token only when its session was revoked, once,
 * before it signs up again: 20 at once, then one a second, covers every tab and worker of
 * a household behind one address.
 */
export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  maxSocketsPerUser: 24,
  maxRoomsPerSocket: 1_000,
  roomsCreatedPerHour: 60,
  joinRate: { capacity: 500, refillPerMinute: 600 },
  historyRate: { capacity: 600, refillPerMinute: 1_800 },
  receiptRate: { capacity: 1_000, refillPerMinute: 1_800 },
  maxOutboundBytes: 4 * MIB,
  outboundStallMs: 30_000,
  maxHttpSendsPerUser: 2,
  refusedTokenRate: { capacity: 20, refillPerMinute: 60 },
};

/** `roomsCreatedPerHour` as a token bucket: the whole hour's worth at once, then a refill. */
export function roomCreationRate(perHour: number): RateLimit {
  return { capacity: perHour, refillPerMinute: perHour / 60 };
}
