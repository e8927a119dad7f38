/** Limits shared by client and server. Units are in the names. */

/** Longest message body, in UTF-16 code units (what `String#length` counts). */
export const MAX_BODY_CHARS = 4_000;
/** Most messages the server accepts in one `send` batch. */
export const MAX_BATCH_MESSAGES = 100;
/**
 * Largest socket.io packet the server reads (`maxHttpBufferSize`). socket.io's 1 MB default
 * lets one client make the server buffer a megabyte per frame.
 */
export const MAX_PACKET_BYTES = 64 * 1024;
/**
 * The client stops adding to a batch past this many body bytes, so that a full batch stays
 * well under MAX_PACKET_BYTES with its JSON framing.
 */
export const MAX_BATCH_BODY_BYTES = 40 * 1024;
/** Most messages one `history` page returns. */
export const MAX_HISTORY_PAGE = 500;
/** Longest display name, in UTF-16 code units. */
export const MAX_NAME_CHARS = 40;
/** Longest private room name, in UTF-16 code units. */
export const MAX_ROOM_NAME_CHARS = 64;
/** Room ids: short, URL-safe, so they can live in the hash route unescaped. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Session tokens: 32 random bytes, base64url (256 bits; at least 128 are required). */
export const SESSION_TOKEN_BYTES = 32;
/** Invite secrets for private rooms: 32 random bytes, base64url. */
export const INVITE_SECRET_BYTES = 32;
/**
 * The shortest wait a `rate_limited` answer asks for. The server never answers less, and
 * the client never resends sooner, whatever the answer says: a refused request can never
 * turn into a hot loop.
 */
export const MIN_RETRY_AFTER_MS = 500;
/**
 * The longest wait a `rate_limited` answer asks for. A slow refill could ask for hours, and
 * a client timer that long is as good as never (past 2^31 ms, `setTimeout` fires at once):
 * asking again after a minute costs one refused request.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A wait as every `rate_limited` answer must carry it: between the floor and the ceiling. */
export function clampRetryAfterMs(ms: number): number {
  if (!(ms > MIN_RETRY_AFTER_MS)) return MIN_RETRY_AFTER_MS; // NaN lands here too
  return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(ms));
}
