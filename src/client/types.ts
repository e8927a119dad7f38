import type { ErrorCode } from '../shared/errors.ts';

/** Why a message failed, as the user is shown it. */
export interface MessageError {
  code: ErrorCode;
  reason: string;
}

/**
 * An edit or delete typed on this device that the server has not confirmed yet: the
 * message is shown with it applied. `id` is the operation's own id, `key` its outbox key.
 */
export type PendingOp =
  | { kind: 'edit'; id: string; key: number; body: string }
  | { kind: 'delete'; id: string; key: number };

interface MessageBase {
  id: string;
  room: string;
  /** The sender's user id; empty on a message typed before this device had a session. */
  authorId: string;
  /** The sender's display name. */
  author: string;
  body: string;
  /** The newest edit or delete of it typed here and not confirmed yet. */
  pendingOp?: PendingOp;
  /** Why the server refused the last edit or delete of it typed here (shown until the next). */
  opError?: MessageError;
}

/**
 * What the room log says of a message's state: the latest edit's body (or none once
 * deleted), and `version`, the seq of the last operation applied (absent while none was).
 */
export interface MessageState {
  edited?: true;
  deleted?: true;
  version?: number;
}

/**
 * A message as this device knows it. The status decides which fields exist, so a sent
 * message always has its `seq` and `ts` and a pending one never does.
 * - `pending`: in the outbox; `order` is its outbox key (the order it was typed in).
 * - `sent`: the server stored it; `seq`/`ts` are the server's, and so is its state (edited,
 *   deleted) as far as this device has heard.
 * - `failed`: the server refused it for good; it left the outbox and waits for the user
 *   to retry or discard it.
 */
export type LocalMessage =
  | (MessageBase & { status: 'pending'; order: number; createdAt: number })
  | (MessageBase & MessageState & { status: 'sent'; seq: number; ts: number })
  | (MessageBase & { status: 'failed'; order: number; createdAt: number; error: MessageError });

export type PendingMessage = Extract<LocalMessage, { status: 'pending' }>;
export type SentMessage = Extract<LocalMessage, { status: 'sent' }>;
export type FailedMessage = Extract<LocalMessage, { status: 'failed' }>;

/**
 * One queued message, keyed by an auto-increment key that fixes the send order. It carries
 * what settling needs (who typed it, and when), so a message can be settled, or failed,
 * without its room being open on screen.
 */
export interface OutboxEntry {
  key: number;
  id: string;
  room: string;
  /** The message's body, an edit's new body, or empty for a delete. */
  body: string;
  /** Set on an edit or delete of the message `target` (absent on a message). */
  op?: { kind: 'edit' | 'delete'; target: string };
  /** The display name it was typed under. */
  author: string;
  createdAt: number;
}

/**
 * What this device holds of a room's history: every seq in [floor, cursor] is stored.
 * `cursor` is the highest contiguous seq, the point catch-up resumes after; messages below
 * `floor` are loaded on demand (older history).
 */
export interface RoomRecord {
  room: string;
  cursor: number;
  floor: number;
}

/**
 * A room in the user's list, beside its messages: the name its members see, and the read
 * cursors that make receipts and unread counts (one seq per member per room, highest wins).
 * `read` and `delivered` (the room's cursor) are this user's; what the server has
 * acknowledged of them is kept, so that what is due goes out after a reload, once (the
 * receipts' outbox: a cursor is due while it is above what was acknowledged).
 */
export interface RoomMeta {
  room: string;
  /** A public room's id, or the name a private room was given. */
  name: string;
  /** When it joined the list on this device (orders rooms with no message yet). */
  addedAt: number;
  /** The highest seq this user has seen on screen, here or (as heard) on another device. */
  read: number;
  /**
   * What the room held when this user first came to it: never unread (no "new messages"
   * line above a newcomer's history), though not read either (no read receipt for it).
   */
  unreadFloor: number;
  readAcked: number;
  deliveredAcked: number;
  /** The furthest any other member's device holds, and has seen on screen. */
  othersDelivered: number;
  othersRead: number;
}

/**
 * Who this device is. The name can be picked offline; the session (user id and token)
 * is created by the server on the first connection and kept here.
 */
export interface Identity {
  name: string;
  /**
   * A secret made when the name is picked and sent with the sign-up, which the server
   * treats as an idempotency key: every tab of the profile, and every retry of a sign-up
   * whose answer was lost, gets the same user. Absent on identities stored by older
   * versions, which make one before signing up.
   */
  signupKey?: string;
  session: { userId: string; token: string } | null;
}
