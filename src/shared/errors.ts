/**
 * Machine-readable error codes. A batch-level error answers a whole event; a message-level
 * rejection answers one message of a `send` batch and leaves the others unaffected.
 */
export const ERROR_CODES = [
  /** The event's payload does not have the documented shape. */
  'invalid_payload',
  /** The room id is not a valid room id. */
  'invalid_room',
  /** One message's id is not a UUID, or its body is not a string. */
  'invalid_message',
  /** One message's body is empty or only white space. */
  'body_empty',
  /** One message's body is longer than MAX_BODY_CHARS. */
  'body_too_long',
  /** The batch has more than MAX_BATCH_MESSAGES messages. */
  'batch_too_large',
  /** The id already belongs to another message (another author or room). */
  'id_conflict',
  /** No valid session: the handshake carried no token, a wrong one, or a revoked one. */
  'unauthorized',
  /** The user is not a member of this private room (or the invite secret is wrong). */
  'forbidden',
  /** Too many messages too fast; `retryAfterMs` says when to send again. Nothing was stored. */
  'rate_limited',
  /**
   * The server failed; the client may retry the same batch safely, after `retryAfterMs`
   * when it says. Also how a client reads a code it does not know (a newer server's).
   */
  'internal',
  /** Handshake: the client's protocol is older than the server serves; reload the app. */
  'upgrade_required',
  /** An edit or delete names a message this room does not hold (or one that is itself an edit or delete). */
  'not_found',
  /** An edit or delete names another user's message: only the author may change it. */
  'not_author',
  /** An edit names a message that was deleted: a tombstone stays as it is. */
  'message_deleted',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** Codes that the client must not retry: the same input would be rejected again. */
export const PERMANENT_MESSAGE_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_message',
  'body_empty',
  'body_too_long',
  'id_conflict',
  'invalid_room',
  'not_found',
  'not_author',
  'message_deleted',
]);

export interface WireError {
  code: ErrorCode;
  message: string;
  /** With `rate_limited` or `internal`: how long to wait before sending again. */
  retryAfterMs?: number;
}
