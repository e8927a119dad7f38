import type { RoomReceipts } from '../client/engine.ts';
import type { LocalMessage, SentMessage } from '../client/types.ts';

/** How far another member has got with one of the user's sent messages. */
export type Receipt = 'sent' | 'delivered' | 'read';

/** What an own sent message shows; undefined on others' messages and on unsent ones. */
export function receiptOf(
  message: LocalMessage,
  me: string | null,
  receipts: RoomReceipts,
): Receipt | undefined {
  if (message.status !== 'sent' || me === null || message.authorId !== me) return undefined;
  if (message.seq <= receipts.othersRead) return 'read';
  if (message.seq <= receipts.othersDelivered) return 'delivered';
  return 'sent';
}

/** A message another member sent (what unread counts and the divider are made of). */
export function isFromOthers(message: LocalMessage, me: string | null): message is SentMessage {
  return message.status === 'sent' && message.authorId !== me;
}

/** The index of the first message another member sent above the read cursor `read`, or -1. */
export function firstUnreadIndex(
  messages: readonly LocalMessage[],
  read: number,
  me: string | null,
): number {
  return messages.findIndex((message) => isFromOthers(message, me) && message.seq > read);
}

/**
 * How many messages from other members come after `index` (not counting it), of those past
 * the read cursor `read` when it is given.
 */
export function othersAfter(
  messages: readonly LocalMessage[],
  index: number,
  me: string | null,
  read = 0,
): number {
  let count = 0;
  for (let i = index + 1; i < messages.length; i++) {
    const message = messages[i];
    if (message && isFromOthers(message, me) && message.seq > read) count++;
  }
  return count;
}

/** The seq of the newest sent message among `messages[first..last]`, or null if none is sent. */
export function newestSentSeq(
  messages: readonly LocalMessage[],
  first: number,
  last: number,
): number | null {
  for (let i = last; i >= first; i--) {
    const message = messages[i];
    if (message?.status === 'sent') return message.seq;
  }
  return null;
}

/** The unread divider's text, for `count` unread messages below it. */
export function unreadLabel(count: number): string {
  if (count <= 0) return 'New messages';
  return count === 1 ? '1 new message' : `${count} new messages`;
}
