import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../shared/errors.ts';
import { MAX_PACKET_BYTES, MIN_RETRY_AFTER_MS } from '../shared/limits.ts';
import type { LogEntry, SendAck } from '../shared/protocol.ts';
import { createBearerAuth } from './bearer-auth.ts';
import {
  type BodyLimits,
  isJson,
  readJsonBody,
  sendError,
  sendFailure,
  sendJson,
  setRetryAfter,
} from './json-http.ts';
import { type Logger, messageOf } from './logger.ts';
import { RateGate } from './rate-gate.ts';
import { createRoomAccess } from './room-access.ts';
import type { Sender, SendHandler } from './send-handler.ts';
import type { SlotsPerKey } from './slots.ts';
import type { AccountStore } from './store/account-store.ts';
import type { TokenBuckets } from './token-bucket.ts';
import { fail } from './wire.ts';

/**
 * A batch over HTTP is bounded like one over the socket (socket.io's `maxHttpBufferSize`).
 * A bigger body is drained up to 1 MB so that the 413 reaches the client: nothing past
 * MAX_PACKET_BYTES is kept in memory, so draining costs bandwidth only.
 */
const BODY_LIMITS: BodyLimits = { maxBytes: MAX_PACKET_BYTES, maxDrainedBytes: 1024 * 1024 };

/**
 * The wait asked of a user with all their requests in flight. A batch takes milliseconds,
 * so by then a slot is free, unless the user keeps them full on purpose.
 */
export const IN_FLIGHT_RETRY_AFTER_MS = 1_000;

/**
 * The status of a batch refused whole, by its code. Every code has one, so that a new code
 * needs a decision here; the per-message codes and `upgrade_required` never refuse a batch
 * over HTTP (nor does `unauthorized` come from the send handler: it is this module's).
 */
const REFUSAL_STATUS: Record<ErrorCode, number> = {
  invalid_payload: 400,
  invalid_room: 400,
  batch_too_large: 400,
  invalid_message: 400,
  body_empty: 400,
  body_too_long: 400,
  id_conflict: 400,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  internal: 503,
  upgrade_required: 400,
  not_found: 400,
  not_author: 400,
  message_deleted: 400,
};

export interface MessagesApiOptions {
  accounts: AccountStore;
  /** The send handler the sockets use: one code path, one rate budget, one dedup. */
  handleSend: SendHandler;
  /** Sends newly stored messages to every socket in the room (no socket sent them). */
  broadcast: (room: string, messages: LogEntry[]) => void;
  /** Requests in flight per user (FloodLimits' `maxHttpSendsPerUser`). */
  sendsInFlight: SlotsPerKey;
  /** Refused Bearer tokens per client address (FloodLimits' `refusedTokenRate`). */
  refusedTokens: TokenBuckets;
  log: Logger;
}

/**
 * A batch of which every message was held by the rate limit is refused whole: nothing was
 * stored or settled, so `rate_limited` with the wait says all the per-message results say,
 * and an HTTP client (or the browser's Background Sync) sees a plain 429.
 */
function refuseIfAllHeld(ack: SendAck): SendAck {
  if (!ack.ok) return ack;
  const waits = ack.results.flatMap((result) =>
    result.status === 'rejected' && result.code === 'rate_limited'
      ? [result.retryAfterMs ?? MIN_RETRY_AFTER_MS]
      : [],
  );
  if (waits.length === 0 || waits.length < ack.results.length) return ack;
  return fail('rate_limited', 'too many messages; resend this batch later', Math.max(...waits));
}

/** Answers a send ack: 200 when the batch was handled, a status by code when it was refused. */
function sendAck(res: ServerResponse, handled: SendAck): void {
  const ack = refuseIfAllHeld(handled);
  if (ack.ok) {
    sendJson(res, 200, ack);
    return;
  }
  if (ack.error.retryAfterMs !== undefined) setRetryAfter(res, ack.error.retryAfterMs);
  sendJson(res, REFUSAL_STATUS[ack.error.code], ack);
}

/**
 * `POST /api/messages` with `Authorization: Bearer <token>`: the socket `send` event over
 * HTTP, for a sender without a socket (the service worker's Background Sync). The body is
 * a `send` payload and the answer its ack, made by the very same send handler; see
 * docs/protocol.md for the statuses.
 *
 * Each request is a sender of its own with a fresh rate gate: an HTTP client posts its
 * batches one at a time and resends from the head of its outbox after a refusal, so no
 * batch of its can be in flight behind a held one. A user may have few posts in flight,
 * and an address few tokens refused (see FloodLimits), as a socket is bounded.
 */
export function createMessagesApi(options: MessagesApiOptions) {
  const { accounts, handleSend, broadcast, sendsInFlight, log } = options;
  const mayEnter = createRoomAccess(accounts);
  const authenticate = createBearerAuth(accounts, options.refusedTokens);

  async function post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isJson(req)) {
      sendError(res, 415, 'invalid_payload', 'the body must be sent as application/json');
      return;
    }
    // Before the body is read: a request without a session, or past its user's cap, costs
    // no buffering.
    const auth = await authenticate(req);
    if (auth.kind === 'rate_limited') {
      const message = 'too many refused session tokens from this address; try again later';
      sendError(res, 429, 'rate_limited', message, auth.retryAfterMs);
      return;
    }
    if (auth.kind === 'unauthorized') {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendError(res, 401, 'unauthorized', auth.message);
      return;
    }
    const { user } = auth;
    const release = sendsInFlight.acquire(user.userId);
    if (!release) {
      const message = `this account has ${sendsInFlight.max} batches in flight; post one at a time`;
      sendError(res, 429, 'rate_limited', message, IN_FLIGHT_RETRY_AFTER_MS);
      return;
    }
    // Held until the handler is done, not only until the connection closes: a client that
    // drops a post must not have another take its place while the store still writes it.
    try {
      const body = await readJsonBody(req, res, BODY_LIMITS);
      if (!body) return;
      const sender: Sender = {
        author: { id: user.userId, name: user.name },
        gate: new RateGate(),
        mayEnter: (room) => mayEnter(room, user.userId),
        broadcast,
        log: log.child({ userId: user.userId, via: 'http' }),
      };
      const { ack } = await handleSend(sender, body.json);
      sendAck(res, ack);
    } finally {
      release();
    }
  }

  /** Handles the request if it is for `/api/messages`; returns false otherwise. */
  return function handleMessagesApi(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/messages') return false;
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendError(res, 405, 'invalid_payload', 'use POST to send a batch of messages');
      return true;
    }
    post(req, res).catch((error: unknown) => {
      log.error({ err: error }, `POST /api/messages failed: ${messageOf(error)}`);
      sendFailure(res, error);
    });
    return true;
  };
}
