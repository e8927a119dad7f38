import { describe, expect, it } from 'vitest';
import {
  firstUnreadIndex,
  newestSentSeq,
  othersAfter,
  receiptOf,
  unreadLabel,
} from '../../src/ui/read-state.ts';
import { pendingMessage, sentMessage } from './fixtures.ts';

const receipts = { read: 0, othersDelivered: 5, othersRead: 3 };

describe('receiptOf', () => {
  it.each([
    ['read once another member has seen it', 3, 'read'],
    ['delivered once another member’s device holds it', 4, 'delivered'],
    ['delivered up to the highest seq delivered', 5, 'delivered'],
    ['sent while only the server has it', 6, 'sent'],
  ])('says %s', (_case, seq, receipt) => {
    expect(receiptOf(sentMessage(seq, 'u-ada'), 'u-ada', receipts)).toBe(receipt);
  });

  it('says nothing on another member’s message, an unsent one, or before sign-up', () => {
    expect(receiptOf(sentMessage(1, 'u-grace'), 'u-ada', receipts)).toBeUndefined();
    expect(receiptOf(pendingMessage(7, 'u-ada'), 'u-ada', receipts)).toBeUndefined();
    expect(receiptOf(sentMessage(1, 'u-ada'), null, receipts)).toBeUndefined();
  });
});

describe('unread messages', () => {
  const messages = [
    sentMessage(1, 'u-grace'),
    sentMessage(2, 'u-ada'),
    sentMessage(3, 'u-grace'),
    sentMessage(4, 'u-grace'),
    pendingMessage(5, 'u-ada'),
  ];

  it('finds the first message of another member past the read cursor, skipping own ones', () => {
    expect(firstUnreadIndex(messages, 0, 'u-ada')).toBe(0);
    expect(firstUnreadIndex(messages, 1, 'u-ada')).toBe(2);
    expect(firstUnreadIndex(messages, 4, 'u-ada')).toBe(-1);
  });

  it('counts the messages of other members after an index, past a read cursor if given', () => {
    expect(othersAfter(messages, 0, 'u-ada')).toBe(2);
    expect(othersAfter(messages, 0, 'u-ada', 3)).toBe(1);
    expect(othersAfter(messages, 3, 'u-ada')).toBe(0);
  });

  it('finds the newest sent seq of a range, passing over messages not sent yet', () => {
    expect(newestSentSeq(messages, 1, 4)).toBe(4);
    expect(newestSentSeq(messages, 4, 4)).toBeNull();
  });

  it('words the unread line', () => {
    expect([0, 1, 12].map(unreadLabel)).toEqual([
      'New messages',
      '1 new message',
      '12 new messages',
    ]);
  });
});
