// The reorder buffer on its own: a cursor the test moves, a record of what is stored and
// what is fetched, and fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOLE_WAIT_MS, LiveOrder } from '../../src/client/live-order.ts';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';
import type { StoredMessage } from '../../src/shared/protocol.ts';

const ROOM = 'lobby';

function message(seq: number): StoredMessage {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    room: ROOM,
    authorId: 'u1',
    author: 'Ada',
    body: `message ${seq}`,
    seq,
    ts: seq,
  };
}

/**
 * A room whose cursor follows what is delivered in order, as RoomSync's does; or, with
 * `storeLags`, stays put (the store's write is still queued).
 */
function harness(cursor: number | null, { storeLags = false } = {}) {
  const state = { cursor, delivered: [] as number[][], repairs: 0 };
  const order = new LiveOrder({
    timers: SYSTEM_TIMERS,
    cursorOf: () => state.cursor,
    deliver: (_room, messages) => {
      const seqs = messages.map((m) => m.seq);
      state.delivered.push(seqs);
      if (state.cursor === null || storeLags) return;
      for (const seq of seqs) if (seq === state.cursor + 1) state.cursor = seq;
    },
    repair: () => {
      state.repairs += 1;
    },
  });
  return { state, order };
}

describe('LiveOrder', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands on a message that is next in order at once', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(11)]);
    expect(state.delivered).toEqual([[11]]);
  });

  it('holds a message past a hole and hands both on, in order, when the hole closes', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    expect(state.delivered).toEqual([]);
    order.receive(ROOM, [message(11)]);
    expect(state.delivered).toEqual([[11, 12]]);
    vi.advanceTimersByTime(HOLE_WAIT_MS * 2);
    expect(state.repairs).toBe(0);
  });

  it('hands on the next message even before the store has moved the cursor over the last', () => {
    const { state, order } = harness(10, { storeLags: true });
    order.receive(ROOM, [message(11)]);
    order.receive(ROOM, [message(12)]);
    expect(state.delivered).toEqual([[11], [12]]);
  });

  it('stores what it holds once the hole has stayed open for the wait, and no sooner', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(13), message(12)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS - 1);
    expect(state.delivered).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(state.delivered).toEqual([[12, 13]]);
  });

  it('leaves the fetch of a held hole to the store, which starts the catch-up on a gap', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    expect(state.repairs).toBe(0);
  });

  it('does not hold messages after a hole that was handed to the catch-up', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    order.receive(ROOM, [message(13)]);
    expect(state.delivered).toEqual([[12], [13]]);
  });

  it('stores a late message inside a hole the catch-up is fetching at once', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    order.receive(ROOM, [message(11)]);
    expect(state.delivered).toEqual([[12], [11]]);
  });

  it('fetches a quiet room whose newest seq is past the cursor once the wait is over', () => {
    const { state, order } = harness(10);
    order.head(ROOM, 11);
    vi.advanceTimersByTime(HOLE_WAIT_MS - 1);
    expect(state.repairs).toBe(0);
    vi.advanceTimersByTime(1);
    expect(state.repairs).toBe(1);
  });

  it('does not fetch when the message a head announced arrives live within the wait', () => {
    const { state, order } = harness(10);
    order.head(ROOM, 11);
    order.receive(ROOM, [message(11)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS * 2);
    expect(state.repairs).toBe(0);
    expect(state.delivered).toEqual([[11]]);
  });

  it('does nothing on a head the room has already reached', () => {
    const { state, order } = harness(10);
    order.head(ROOM, 10);
    vi.advanceTimersByTime(HOLE_WAIT_MS * 2);
    expect(state.repairs).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not fetch when the catch-up has moved the cursor past the head within the wait', () => {
    const { state, order } = harness(10);
    order.head(ROOM, 15);
    state.cursor = 15;
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    expect(state.repairs).toBe(0);
  });

  it('fetches once, not once per head, while the same hole stays open', () => {
    const { state, order } = harness(10);
    order.head(ROOM, 12);
    order.head(ROOM, 14);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    order.head(ROOM, 14);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    expect(state.repairs).toBe(1);
  });

  it('counts a room as behind until its cursor reaches the head it was told, fetch or not', () => {
    const { state, order } = harness(10);
    expect(order.behind(ROOM)).toBe(false);
    order.head(ROOM, 15);
    expect(order.behind(ROOM)).toBe(true);
    vi.advanceTimersByTime(HOLE_WAIT_MS);
    expect(state.repairs).toBe(1);
    // The fetch read its page a moment too early: the catch-up must go round again.
    expect(order.behind(ROOM)).toBe(true);
    state.cursor = 15;
    expect(order.behind(ROOM)).toBe(false);
  });

  it('gives a new hole a wait of its own when an earlier hole closed', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS - 10);
    order.receive(ROOM, [message(11)]);
    vi.advanceTimersByTime(5);
    order.receive(ROOM, [message(14)]);
    vi.advanceTimersByTime(HOLE_WAIT_MS - 1);
    expect(state.delivered).toEqual([[11, 12]]);
    vi.advanceTimersByTime(1);
    expect(state.delivered).toEqual([[11, 12], [14]]);
  });

  it('hands on a held message as soon as the cursor moves over its hole by other means', () => {
    const { state, order } = harness(5);
    order.receive(ROOM, [message(7)]);
    // This device's own message 6 was acked and stored: no live event brings it.
    state.cursor = 6;
    order.cursorMoved(ROOM);
    expect(state.delivered).toEqual([[7]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("counts a room as behind a join's newest seq without a wait or a fetch of its own", () => {
    const { state, order } = harness(10);
    order.expect(ROOM, 15);
    expect(order.behind(ROOM)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(HOLE_WAIT_MS * 2);
    expect(state.repairs).toBe(0);
    state.cursor = 15;
    expect(order.behind(ROOM)).toBe(false);
  });

  it('passes messages straight through for a room whose start is not known yet', () => {
    const { state, order } = harness(null);
    order.receive(ROOM, [message(40), message(38)]);
    expect(state.delivered).toEqual([[40, 38]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops what it holds and its waits when closed', () => {
    const { state, order } = harness(10);
    order.receive(ROOM, [message(12)]);
    order.close();
    vi.advanceTimersByTime(HOLE_WAIT_MS * 2);
    expect(state.delivered).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
