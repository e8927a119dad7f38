import { describe, expect, it } from 'vitest';
import {
  type ChaosHistory,
  checkHistory,
  type ObservedMessage,
  type SendAttempt,
  summaryLine,
} from './checker.ts';

/** Two senders in one room, two members' views; a#2's send() rejected and it never arrived. */
const ATTEMPTS: SendAttempt[] = [
  { sender: 'a', room: 'r', index: 0, body: 'a#0', id: 'a0' },
  { sender: 'b', room: 'r', index: 0, body: 'b#0', id: 'b0' },
  { sender: 'a', room: 'r', index: 1, body: 'a#1', id: 'a1' },
  { sender: 'b', room: 'r', index: 1, body: 'b#1', id: 'b1' },
  { sender: 'a', room: 'r', index: 2, body: 'a#2', id: null },
];

function sent(id: string, body: string, seq: number): ObservedMessage {
  return { id, body, seq, status: 'sent' };
}

const A0 = sent('a0', 'a#0', 1);
const B0 = sent('b0', 'b#0', 2);
const A1 = sent('a1', 'a#1', 3);
const B1 = sent('b1', 'b#1', 4);

/** The room as everyone holds it when all went well. */
function history(change: {
  server?: ObservedMessage[];
  v1?: ObservedMessage[];
  v2?: ObservedMessage[];
}): ChaosHistory {
  const clean = [A0, B0, A1, B1];
  const server = change.server ?? clean;
  return {
    attempts: ATTEMPTS,
    rooms: [
      {
        room: 'r',
        server,
        views: [
          { observer: 'v1', messages: change.v1 ?? server },
          { observer: 'v2', messages: change.v2 ?? server },
        ],
      },
    ],
  };
}

const ZERO = { lost: 0, duplicated: 0, reordered: 0, diverged: 0, gaps: 0, unexpected: 0 };

const CASES: { name: string; history: ChaosHistory; expected: Partial<typeof ZERO> }[] = [
  {
    name: 'a clean run (a rejected send that never arrived is fine)',
    history: history({}),
    expected: {},
  },
  {
    name: 'a promised message missing everywhere',
    history: history({ server: [A0, B0, A1] }),
    expected: { lost: 1 },
  },
  {
    name: 'a promised message missing from one view',
    history: history({ v2: [A0, B0, B1] }),
    expected: { lost: 1, diverged: 1, gaps: 1 },
  },
  {
    name: 'a promised message shown as failed',
    history: history({ v1: [A0, B0, A1, { id: 'b1', body: 'b#1', seq: null, status: 'failed' }] }),
    expected: { lost: 1, diverged: 1, gaps: 1 },
  },
  {
    name: 'the same id twice in a view',
    history: history({ v1: [A0, B0, A1, A1, B1] }),
    expected: { duplicated: 1, diverged: 1 },
  },
  {
    name: 'a body stored twice under a new id (a resend that was not idempotent)',
    history: history({ server: [A0, B0, A1, B1, sent('x', 'b#1', 5)] }),
    expected: { duplicated: 3, unexpected: 3 },
  },
  {
    name: "a sender's messages stored out of order",
    history: history({ server: [sent('a1', 'a#1', 1), B0, sent('a0', 'a#0', 3), B1] }),
    expected: { reordered: 3 },
  },
  {
    name: "a sender's messages shown out of order in one view",
    history: history({ v2: [A1, B0, A0, B1] }),
    expected: { reordered: 1, diverged: 1 },
  },
  {
    name: 'one view interleaves senders differently (each in order)',
    history: history({ v1: [B0, A0, A1, B1] }),
    expected: { diverged: 1 },
  },
  {
    name: 'a seq missing on the server',
    history: history({ server: [A0, B0, sent('a1', 'a#1', 4), sent('b1', 'b#1', 5)] }),
    expected: { gaps: 3 },
  },
  {
    name: 'a view behind the server by an unpromised message',
    history: history({
      server: [A0, B0, A1, B1, sent('a2', 'a#2', 5)],
      v2: [A0, B0, A1, B1],
    }),
    expected: { diverged: 1, gaps: 1 },
  },
  {
    name: 'a message nobody sent',
    history: history({ server: [A0, B0, A1, B1, sent('z', 'zzz', 5)] }),
    expected: { unexpected: 3 },
  },
];

describe('chaos checker', () => {
  it.each(CASES)('$name', ({ history: run, expected }) => {
    const { notes, ...counts } = checkHistory(run);
    expect(counts).toEqual({ ...ZERO, ...expected });
    expect(notes.length > 0).toBe(Object.values(expected).some((count) => count > 0));
  });

  it('finds a promised message whose room the server never stored', () => {
    const run: ChaosHistory = { attempts: ATTEMPTS, rooms: [] };
    expect(checkHistory(run).lost).toBe(4);
  });

  it("checks a long profile's history (50 × 1,000, 20 views a room) in seconds", () => {
    const attempts: SendAttempt[] = [];
    const rooms: ChaosHistory['rooms'][number][] = [];
    for (let r = 0; r < 5; r++) {
      const server: ObservedMessage[] = [];
      for (let i = 0; i < 1_000; i++) {
        for (let s = 0; s < 10; s++) {
          const sender = `c${r}${s}`;
          const body = `${sender}#${i}`;
          attempts.push({ sender, room: `r${r}`, index: i, body, id: body });
          server.push(sent(body, body, server.length + 1));
        }
      }
      const views = Array.from({ length: 20 }, (_, v) => ({ observer: `v${v}`, messages: server }));
      rooms.push({ room: `r${r}`, server, views });
    }
    const started = performance.now();
    const { notes, ...counts } = checkHistory({ attempts, rooms });
    expect(counts).toEqual(ZERO);
    expect(notes).toEqual([]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('ends a run with the one summary line', () => {
    const verdict = checkHistory(history({ v2: [A0, B0, B1] }));
    expect(summaryLine({ seed: 7, clients: 2, messages: 4, faults: 9, verdict })).toBe(
      'chaos: seed=7 clients=2 messages=4 faults=9 lost=1 duplicated=0 reordered=0 diverged=1 gaps=1',
    );
  });
});
