// Snapshots and messages for the message list's tests: what the engine would hand the UI.
import type { RoomSnapshot } from '../../src/client/engine.ts';
import type { PendingMessage, SentMessage } from '../../src/client/types.ts';

/** A loaded room with nothing unread and no receipts, with `overrides` on top. */
export function roomSnapshot(overrides: Partial<RoomSnapshot> = {}): RoomSnapshot {
  return {
    room: 'lobby',
    messages: [],
    catchingUp: null,
    hasOlder: false,
    denied: null,
    name: 'lobby',
    loaded: true,
    receipts: { read: 0, othersDelivered: 0, othersRead: 0 },
    ...overrides,
  };
}

/** A message id made from a number, so a test can name its messages by seq. */
export function messageId(n: number): string {
  return `0190a1b2-c3d4-7e5f-8a9b-${String(n).padStart(12, '0')}`;
}

/** The sent message `seq` of `authorId` (name and body made from them). */
export function sentMessage(
  seq: number,
  authorId: string,
  overrides: Partial<SentMessage> = {},
): SentMessage {
  return {
    id: messageId(seq),
    room: 'lobby',
    authorId,
    author: authorId.replace(/^u-/, ''),
    body: `message ${seq}`,
    status: 'sent',
    seq,
    ts: 1_700_000_000_000 + seq * 1_000,
    ...overrides,
  };
}

/** A message of this device's user still in the outbox. */
export function pendingMessage(n: number, authorId: string): PendingMessage {
  return {
    id: messageId(n),
    room: 'lobby',
    authorId,
    author: authorId.replace(/^u-/, ''),
    body: `pending ${n}`,
    status: 'pending',
    order: n,
    createdAt: 1_700_000_000_000 + n * 1_000,
  };
}
