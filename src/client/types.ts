import type { ErrorCode } from '../shared/errors.ts';

/** Why a message failed, as the user is shown it. */
export interface MessageError {
  code: ErrorCode;
  reason: string;
}

interface MessageBase {
  id: string;
  room: string;
  /** The sender's user id; empty on a message typed before this device had a session. */
  authorId: string;
  /** The sender's display name. */
  author: string;
  body: string;
}

/**
 * A message as this device knows it. The status decides which fields exist, so a sent
 * message always has its `seq` and `ts` and a pending one never does.
 * - `pending`: in the outbox; `order` is its outbox key (the order it was typed in).
 * - `sent`: the server stored it; `seq`/`ts` are the server's.
 * - `failed`: the server refused it for good; it left the outbox and waits for the user
 *   to retry or discard it.
 */
export type LocalMessage =
  | (MessageBase & { status: 'pending'; order: number; createdAt: number })
  | (MessageBase & { status: 'sent'; seq: number; ts: number })
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
  body: string;
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
