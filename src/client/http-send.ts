import type { SendAck, SendBatch } from '../shared/protocol.ts';
import { sendAckSchema } from '../shared/schemas.ts';

/** The path of the `send` batch over HTTP (docs/protocol.md, "POST /api/messages"). */
export const MESSAGES_API_PATH = '/api/messages';

/**
 * A post that gets no answer within this is treated as lost: the batch is resent later
 * from the head of the outbox, and the server answers what it had stored as duplicates.
 */
export const POST_TIMEOUT_MS = 30_000;

/** What the server said to one posted batch. */
export type PostOutcome =
  /** Handled, or refused as a whole for a reason the ack carries (same shape as the socket's). */
  | { kind: 'ack'; ack: SendAck }
  /** The token is unknown or revoked: nothing was stored; sign up again before resending. */
  | { kind: 'unauthorized' };

/** The batch could not be delivered now (no network, no answer, something else answered). */
export class PostUnavailableError extends Error {
  override name = 'PostUnavailableError';
}

/**
 * `POST /api/messages`: one `send` batch, as the socket event carries it. Throws
 * PostUnavailableError for everything that passes with time; every answer of Ferry's
 * server, refusals included, is an outcome.
 */
export async function postSendBatch(
  baseUrl: string,
  token: string,
  batch: SendBatch,
): Promise<PostOutcome> {
  let response: Response;
  try {
    response = await fetch(new URL(MESSAGES_API_PATH, baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new PostUnavailableError(
      `the server could not be reached (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  const parsed = sendAckSchema.safeParse(body);
  // A proxy's error page, a captive portal, a truncated answer: not the server's verdict.
  if (!parsed.success) {
    throw new PostUnavailableError(
      `the batch was answered with something else (${response.status})`,
    );
  }
  const ack = parsed.data;
  // Only Ferry's own refusal drops the session: a 401 from something in front of the
  // server (a proxy asking for its own login) has no ack, and failed above. Never settled
  // as an ack: that would fail every message of the batch for good.
  if (!ack.ok && ack.error.code === 'unauthorized') {
    return { kind: 'unauthorized' };
  }
  return { kind: 'ack', ack };
}
