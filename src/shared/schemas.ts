/**
 * Validators for every payload that crosses the wire, in both directions. The server
 * parses what clients send; the client parses what the server sends. Types are inferred
 * from the schemas so the two cannot drift apart.
 */
import { en } from 'zod/locales';
import { z } from 'zod/mini';
import { displayNameProblem } from './display-name.ts';
import { type ErrorCode, isErrorCode } from './errors.ts';
import {
  MAX_BATCH_MESSAGES,
  MAX_BODY_CHARS,
  MAX_HISTORY_PAGE,
  MAX_NAME_CHARS,
  MAX_ROOM_NAME_CHARS,
  ROOM_ID_PATTERN,
} from './limits.ts';
import { isStorable } from './text.ts';

// `zod/mini` keeps the first load small, but loads no locale of its own: an issue without a
// message of its own (describeIssue sends those to clients) would only say "Invalid input".
// Full `zod`'s English messages are loaded here instead, unless a locale was picked already.
// Every `z.number()` below refuses NaN and ±Infinity (what full zod's `.finite()` said).
if (!z.config().localeError) z.config(en());

export const roomIdSchema = z.string().check(z.regex(ROOM_ID_PATTERN, 'not a room id'));
export const messageIdSchema = z.uuid();
export const seqSchema = z.int().check(z.gte(0));
/**
 * A display name, as the server stores it: NFC-normalised (so one name has one spelling),
 * trimmed, 1..MAX_NAME_CHARS, and visible on one line (see display-name.ts).
 */
export const displayNameSchema = visibleNameSchema('a name', MAX_NAME_CHARS);
/**
 * A private room's name, as the server stores it: the rules of a display name (see
 * display-name.ts), up to MAX_ROOM_NAME_CHARS.
 */
export const roomNameSchema = visibleNameSchema('a room name', MAX_ROOM_NAME_CHARS);

/** NFC-normalised, trimmed, 1..`max` UTF-16 units, visible on one line. */
function visibleNameSchema(what: string, max: number) {
  return z.string().check(
    z.normalize('NFC'),
    z.trim(),
    z.minLength(1, `${what} cannot be empty`),
    z.maxLength(max, `${what} is at most ${max} characters`),
    z.superRefine((name: string, context) => {
      const problem = displayNameProblem(name);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  );
}

/**
 * An error code as a client reads it. One this build does not know (a newer server's) is
 * read as `internal`, a transient failure that is retried after a wait: failing the whole
 * ack on it instead would make an old tab reconnect and resend forever.
 */
export const errorCodeSchema = z.pipe(
  z.string(),
  z.transform((code: string): ErrorCode => (isErrorCode(code) ? code : 'internal')),
);

export const wireErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  retryAfterMs: z.optional(z.number().check(z.gte(0))),
});

/** A session token or an invite secret: base64url, long enough to be unguessable. */
export const secretSchema = z
  .string()
  .check(z.minLength(22), z.maxLength(128), z.regex(/^[A-Za-z0-9_-]+$/, 'not a base64url secret'));

// ---- client -> server -------------------------------------------------------

/** A client's protocol version (see PROTOCOL_VERSION). */
const protocolVersionSchema = z.int().check(z.gte(0));

/** The version a handshake claims; none means UNVERSIONED_PROTOCOL. */
export const handshakeProtocolSchema = z.object({ protocol: z.optional(protocolVersionSchema) });

/**
 * Handshake `auth` payload: the session token from `POST /api/session`, and the client's
 * protocol version (absent from builds older than versions).
 */
export const handshakeAuthSchema = z.extend(handshakeProtocolSchema, { token: secretSchema });

/**
 * A sign-up key: 32 random bytes in base64url (43 characters). A profile makes one before
 * its first sign-up, keeps it with the picked name, and sends it with every sign-up
 * attempt from every tab: the same key always answers the same user. It is a credential
 * (it mints sessions until the user signs out), kept like the token; the server stores
 * only its hash.
 */
export const signupKeySchema = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9_-]{43}$/, 'a signupKey is 32 random bytes in base64url (43 characters)'),
  );

/** `POST /api/session` body. */
export const createSessionRequestSchema = z.object({
  name: displayNameSchema,
  signupKey: z.optional(signupKeySchema),
});
/** `POST /api/session` answer. The token is shown once; the server keeps only its hash. */
export const sessionSchema = z.object({
  userId: z.uuid(),
  // Not displayNameSchema: a name stored under an older, looser rule must still sign in.
  name: z.string().check(z.minLength(1)),
  token: secretSchema,
});

/**
 * The `send` envelope. Messages are checked one by one afterwards (see
 * `outgoingMessageSchema`) so that one bad message is rejected alone and the rest of
 * the batch still goes through.
 */
export const sendBatchSchema = z.object({
  room: roomIdSchema,
  messages: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_BATCH_MESSAGES)),
  /**
   * The batch starts at the head of the sender's outbox: everything it sent before is
   * settled. Such a batch lifts a rate-limit hold (see the server's RateGate).
   */
  head: z.optional(z.boolean()),
});

const storableBodySchema = z
  .string()
  .check(z.refine(isStorable, 'the body is not valid text (a lone surrogate or a NUL character)'));

/** A new message. `kind` is usually left out; `message` says the same. */
export const outgoingMessageSchema = z.object({
  id: messageIdSchema,
  kind: z.optional(z.literal('message')),
  body: storableBodySchema,
});

/**
 * Replaces the body of `target`, one of the sender's messages in the same room. The new
 * text is `newBody`, not `body`: a server older than protocol 3 (a node not yet upgraded
 * in a rolling deploy) must refuse an edit as a message without a body, never store it as
 * a new message.
 */
export const outgoingEditSchema = z.object({
  id: messageIdSchema,
  kind: z.literal('edit'),
  target: messageIdSchema,
  newBody: storableBodySchema,
});

/** Deletes `target`, one of the sender's messages in the same room: its body is erased. */
export const outgoingDeleteSchema = z.object({
  id: messageIdSchema,
  kind: z.literal('delete'),
  target: messageIdSchema,
});

/**
 * One item of a `send` batch: a message, or an operation on one (see docs/protocol.md,
 * "Edit and delete"). Each has its own id, so a resent operation is applied once. Chosen
 * by `kind` so that a malformed edit is told what is wrong with it as an edit.
 */
export function parseOutgoingItem(raw: unknown) {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind === 'edit') return outgoingEditSchema.safeParse(raw);
  if (kind === 'delete') return outgoingDeleteSchema.safeParse(raw);
  return outgoingMessageSchema.safeParse(raw);
}

/** Body rules, separate from the shape so each failure gets its own error code. */
export function checkBody(body: string): 'body_empty' | 'body_too_long' | null {
  if (body.trim().length === 0) return 'body_empty';
  if (body.length > MAX_BODY_CHARS) return 'body_too_long';
  return null;
}

/** Join a room; `invite` (the secret from an invite link) makes the user a member first. */
export const joinRequestSchema = z.object({ room: roomIdSchema, invite: z.optional(secretSchema) });

/**
 * `createRoom`: a private room, with the name its members see (see roomNameSchema). An
 * empty object (a client older than protocol 4) makes one named DEFAULT_PRIVATE_ROOM_NAME.
 */
export const createRoomRequestSchema = z.strictObject({ name: z.optional(roomNameSchema) });

/**
 * `receipt`: how far the user has got in a room they joined. `delivered` is the highest seq
 * their device has stored contiguously, `read` the highest they have seen on screen. The
 * server keeps the highest of each it has heard (see docs/protocol.md, "Read cursors").
 */
export const receiptRequestSchema = z.object({
  room: roomIdSchema,
  delivered: seqSchema,
  read: seqSchema,
});

/** `leave`: unsubscribe from a room; a private room's membership goes with it. */
export const leaveRequestSchema = z.object({ room: roomIdSchema });

/** One page of history: after a seq (ascending) or before a seq (the page just below it). */
export const historyRequestSchema = z.union([
  z.object({
    room: roomIdSchema,
    after: seqSchema,
    limit: z.int().check(z.gte(1), z.lte(MAX_HISTORY_PAGE)),
  }),
  z.object({
    room: roomIdSchema,
    before: seqSchema,
    limit: z.int().check(z.gte(1), z.lte(MAX_HISTORY_PAGE)),
  }),
]);

export const pingRequestSchema = z.object({ sentAt: z.number() });

/**
 * `typing`: the user is typing in a room they joined. Volatile: sent only while connected,
 * never queued, never stored, relayed at most 3 times a second per socket and room.
 */
export const typingRequestSchema = z.object({ room: roomIdSchema });

// ---- server -> client -------------------------------------------------------

const logEntryBase = {
  id: messageIdSchema,
  room: roomIdSchema,
  authorId: z.string(),
  author: z.string(),
  seq: z.int().check(z.gte(1)),
  ts: z.number(),
};

/**
 * A message as the server holds it now: the latest edit's body, or an empty body once
 * deleted. `version` is the seq of the last operation applied to it (absent while none
 * was), so a device can tell a newer state of a message from an older copy.
 */
export const storedMessageSchema = z.object({
  ...logEntryBase,
  // An operation that fails its own schema must not pass for a message.
  kind: z.optional(z.never()),
  target: z.optional(z.never()),
  body: z.string(),
  edited: z.optional(z.literal(true)),
  deleted: z.optional(z.literal(true)),
  version: z.optional(z.int().check(z.gte(1))),
});

/**
 * An edit or a delete, as it stands in the room log at its own seq. An edit's body is the
 * new one; it is erased (and `deleted` set) once its message is deleted.
 */
export const storedOpSchema = z.object({
  ...logEntryBase,
  kind: z.enum(['edit', 'delete']),
  target: messageIdSchema,
  body: z.string(),
  deleted: z.optional(z.literal(true)),
});

/** One entry of a room's log: every seq holds a message or an operation on one. */
export const logEntrySchema = z.union([storedOpSchema, storedMessageSchema]);

export const sendResultSchema = z.discriminatedUnion('status', [
  z.object({
    id: messageIdSchema,
    status: z.enum(['accepted', 'duplicate']),
    seq: z.int().check(z.gte(1)),
    ts: z.number(),
  }),
  z.object({
    // A rejected id may be whatever the client sent, not a UUID.
    id: z.string(),
    status: z.literal('rejected'),
    code: errorCodeSchema,
    reason: z.string(),
    retryAfterMs: z.optional(z.number().check(z.gte(0))),
  }),
]);

const failedAckSchema = z.object({ ok: z.literal(false), error: wireErrorSchema });

export const sendAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), results: z.array(sendResultSchema) }),
  failedAckSchema,
]);

/**
 * A member's read cursors in a room: their own (`delivered`, `read`; 0 when none yet), and
 * the highest of every other member's (`othersDelivered`, `othersRead`).
 */
export const roomReceiptsSchema = z.object({
  delivered: seqSchema,
  read: seqSchema,
  othersDelivered: seqSchema,
  othersRead: seqSchema,
});

/**
 * `join` answered: the room's newest seq, its name (a private room's stored name, or the id
 * of a public room) and the user's receipts in it (see roomReceiptsSchema).
 */
export const joinAckSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    room: roomIdSchema,
    latestSeq: seqSchema,
    // Not roomNameSchema: a name stored under an older, looser rule must still be shown.
    // Both optional for the client: a node of the release before (protocol 3) answers
    // without them during a rolling deploy, and the join must not fail for it.
    name: z.optional(z.string()),
    receipts: z.optional(roomReceiptsSchema),
  }),
  failedAckSchema,
]);

export const historyAckSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    room: roomIdSchema,
    messages: z.array(logEntrySchema),
    latestSeq: seqSchema,
  }),
  failedAckSchema,
]);

export const createRoomAckSchema = z.discriminatedUnion('ok', [
  // `name` optional: a node of the release before answers without it (see joinAckSchema).
  z.object({
    ok: z.literal(true),
    room: roomIdSchema,
    invite: secretSchema,
    name: z.optional(z.string()),
  }),
  failedAckSchema,
]);

/** `receipt` answered with the cursors as stored: never lower than what was stored before. */
export const receiptAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), room: roomIdSchema, delivered: seqSchema, read: seqSchema }),
  failedAckSchema,
]);

export const leaveAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), room: roomIdSchema }),
  failedAckSchema,
]);

export const pingAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), serverTime: z.number() }),
  failedAckSchema,
]);

/**
 * A room's newest seq, sent to the room's sockets when it moved since the last word (every
 * 15–25 s) and when a process's fan-out recovers: a quiet room whose last live message was
 * lost on the way learns of the hole.
 */
export const headEventSchema = z.object({ room: roomIdSchema, latestSeq: seqSchema });

export const messagesEventSchema = z.object({
  room: roomIdSchema,
  messages: z.array(logEntrySchema).check(z.minLength(1)),
});

/**
 * A member's read cursors moved (sent to the room's sockets, the member's own included):
 * the values as stored, so a client keeps, per user, the highest it has heard.
 */
export const receiptsEventSchema = z.object({
  room: roomIdSchema,
  userId: z.string(),
  delivered: seqSchema,
  read: seqSchema,
});

/** Someone who joined the room is typing (relayed by the server, never stored). */
export const typingEventSchema = z.object({
  room: roomIdSchema,
  userId: z.string(),
  name: z.string(),
});
