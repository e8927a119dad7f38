import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSent, RoomView } from '../../src/client/room-view.ts';
import type { LocalMessage, PendingMessage, SentMessage } from '../../src/client/types.ts';

/** A room's server history: seq 1..n with strictly increasing ts (as the server assigns). */
const historyArb = fc
  .array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 60 })
  .map((gaps): SentMessage[] => {
    let ts = 1_000;
    return gaps.map((gap, i) => {
      ts += gap + 1;
      return {
        id: `m-${String(i).padStart(3, '0')}-${gap}`,
        room: 'r',
        authorId: 'u-a',
        author: 'a',
        body: `b${i}`,
        status: 'sent',
        seq: i + 1,
        ts,
      };
    });
  });

const pendingArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 500 }), { maxLength: 10 })
  .map((orders) =>
    orders.map(
      (order): PendingMessage => ({
        id: `p-${order}`,
        room: 'r',
        authorId: 'u-me',
        author: 'me',
        body: `p${order}`,
        status: 'pending',
        order,
        createdAt: order,
      }),
    ),
  );

/** Pages cut from the history: overlapping, repeated and in any order. */
function pagesArb(history: SentMessage[]) {
  const slice = fc
    .tuple(fc.nat({ max: history.length }), fc.nat({ max: history.length }))
    .map(([a, b]) => history.slice(Math.min(a, b), Math.max(a, b)));
  return fc.array(slice, { maxLength: 8 });
}

function isSortedForDisplay(messages: readonly LocalMessage[]): boolean {
  const firstLocal = messages.findIndex((m) => m.status !== 'sent');
  const sent = (firstLocal === -1 ? messages : messages.slice(0, firstLocal)) as SentMessage[];
  const local = firstLocal === -1 ? [] : messages.slice(firstLocal);
  if (local.some((m) => m.status === 'sent')) return false;
  const sentOrdered = sent.every(
    (m, i) => i === 0 || compareSent(sent[i - 1] as SentMessage, m) < 0,
  );
  const localOrdered = local.every((m, i) => {
    const previous = local[i - 1];
    return (
      !previous || (previous.status !== 'sent' && m.status !== 'sent' && previous.order < m.order)
    );
  });
  return sentOrdered && localOrdered;
}

describe('RoomView merge (property-based)', () => {
  it('gives a view sorted by (ts, id) with pending last, no id twice, equal to merging everything at once', () => {
    fc.assert(
      fc.property(
        historyArb.chain((history) =>
          fc.tuple(fc.constant(history), pagesArb(history), pendingArb),
        ),
        ([, pages, pending]) => {
          let stepwise = RoomView.empty();
          for (const message of pending) stepwise = stepwise.withLocal(message);
          for (const page of pages) stepwise = stepwise.withSent(page);

          const everything = RoomView.from([...pages.flat(), ...pending]);
          const view = stepwise.messages;
          expect(isSortedForDisplay(view)).toBe(true);
          expect(new Set(view.map((m) => m.id)).size).toBe(view.length);
          expect(view).toEqual(everything.messages);
          expect(view.filter((m) => m.status === 'pending')).toHaveLength(pending.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('turns a pending echo into the sent message when the server confirms it', () => {
    fc.assert(
      fc.property(pendingArb, fc.nat(), (pending, pick) => {
        fc.pre(pending.length > 0);
        const mine = pending[pick % pending.length] as PendingMessage;
        let view = RoomView.empty();
        for (const message of pending) view = view.withLocal(message);
        const confirmed: SentMessage = { ...mine, status: 'sent', seq: 1, ts: 5 };
        view = view.withSent([confirmed]);
        expect(view.messages.filter((m) => m.id === mine.id)).toEqual([confirmed]);
        expect(view.messages[0]).toEqual(confirmed);
        expect(view.messages).toHaveLength(pending.length);
      }),
    );
  });
});
