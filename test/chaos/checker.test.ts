import { describe, expect, it } from 'vitest';
import {
  asStored,
  type ChaosHistory,
  checkHistory,
  type DeviceReport,
  findings,
  type MemberView,
  type ObservedMessage,
  REFUSED_PER_WINDOW,
  type SendAttempt,
  type SlowLink,
  summaryLine,
} from './checker.ts';

/**
 * Two senders in one room; a's live view and b's view after a reload. a#2's send()
 * rejected and it never arrived. b#2 was over the limit: it must end failed on b's device.
 */
const ATTEMPTS: SendAttempt[] = [
  { sender: 'a', room: 'r', index: 0, body: 'a#0', id: 'a0', expect: 'delivered' },
  { sender: 'b', room: 'r', index: 0, body: 'b#0', id: 'b0', expect: 'delivered' },
  { sender: 'a', room: 'r', index: 1, body: 'a#1', id: 'a1', expect: 'delivered' },
  { sender: 'b', room: 'r', index: 1, body: 'b#1', id: 'b1', expect: 'delivered' },
  { sender: 'a', room: 'r', index: 2, body: 'a#2', id: null, expect: 'delivered' },
  { sender: 'b', room: 'r', index: 2, body: 'b#2 xxxx', id: 'b2', expect: 'refused' },
];

function sent(id: string, body: string, seq: number): ObservedMessage {
  return { id, body, seq, status: 'sent', error: null };
}

function failed(id: string, body: string, error: string): ObservedMessage {
  return { id, body, seq: null, status: 'failed', error };
}

const A0 = sent('a0', 'a#0', 1);
const B0 = sent('b0', 'b#0', 2);
const A1 = sent('a1', 'a#1', 3);
const B1 = sent('b1', 'b#1', 4);
/** The over-limit body, refused as promised. */
const B2 = failed('b2', 'b#2 xxxx', 'body_too_long');

const HEALTHY: DeviceReport[] = [
  { device: 'a', refusedPerSecond: [0, 4, 12, 0], batchesSent: 40, outboxAtDeadline: 0 },
  { device: 'b', refusedPerSecond: [10, 10, 10, 10, 10, 10], batchesSent: 90, outboxAtDeadline: 0 },
];

/** The room as everyone holds it when all went well, with the parts a case changes. */
function history(change: {
  server?: ObservedMessage[];
  a?: ObservedMessage[];
  b?: ObservedMessage[];
  devices?: DeviceReport[];
  slowLinks?: SlowLink[];
}): ChaosHistory {
  const server = change.server ?? [A0, B0, A1, B1];
  const views: MemberView[] = [
    { observer: 'a live', device: 'a', reloaded: false, messages: change.a ?? server },
    { observer: 'b reloaded', device: 'b', reloaded: true, messages: change.b ?? [...server, B2] },
  ];
  return {
    attempts: ATTEMPTS,
    rooms: [{ room: 'r', server, views }],
    devices: change.devices ?? HEALTHY,
    slowLinks: change.slowLinks ?? [{ device: 'a', tabs: 2, connections: 2, drops: [] }],
  };
}

const ZERO = {
  lost: 0,
  duplicated: 0,
  reordered: 0,
  diverged: 0,
  gaps: 0,
  unexpected: 0,
  failedButStored: 0,
  listedTwice: 0,
  refused: 0,
  stuck: 0,
  misrefused: 0,
  flapped: 0,
};

const CASES: { name: string; history: ChaosHistory; expected: Partial<typeof ZERO> }[] = [
  {
    name: 'a clean run (a rejected send that never arrived is fine, an over-limit body failed)',
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
    history: history({ b: [A0, B0, B1, B2] }),
    expected: { lost: 1, diverged: 1, gaps: 1 },
  },
  {
    name: 'a promised message that never reached the server, shown as failed',
    history: history({
      server: [A0, B0, A1],
      a: [A0, B0, A1],
      b: [A0, B0, A1, failed('b1', 'b#1', 'id_conflict'), B2],
    }),
    expected: { lost: 1, diverged: 1 },
  },
  {
    name: 'a stored message shown as failed (a sent record overwritten by id_conflict)',
    history: history({ a: [A0, B0, A1, failed('b1', 'b#1', 'id_conflict')] }),
    expected: { lost: 1, diverged: 1, gaps: 1, failedButStored: 1 },
  },
  {
    name: 'the same id twice in a view',
    history: history({ a: [A0, B0, A1, A1, B1] }),
    expected: { duplicated: 1, diverged: 1, listedTwice: 1 },
  },
  {
    name: 'an id listed twice, once sent and once failed',
    history: history({ b: [A0, B0, A1, B1, failed('b1', 'b#1', 'id_conflict'), B2] }),
    expected: { duplicated: 1, diverged: 1, failedButStored: 1, listedTwice: 1 },
  },
  {
    name: 'a body stored twice under a new id (a resend that was not idempotent)',
    history: history({
      server: [A0, B0, A1, B1, sent('x', 'b#1', 5)],
      b: [A0, B0, A1, B1, sent('x', 'b#1', 5), B2],
    }),
    expected: { duplicated: 3, unexpected: 3 },
  },
  {
    name: "a sender's messages stored out of order",
    history: history({
      server: [sent('a1', 'a#1', 1), B0, sent('a0', 'a#0', 3), B1],
    }),
    expected: { reordered: 3 },
  },
  {
    name: "a sender's messages shown out of order in one view",
    history: history({ b: [A1, B0, A0, B1, B2] }),
    expected: { reordered: 1, diverged: 1 },
  },
  {
    name: 'one view interleaves senders differently (each in order)',
    history: history({ a: [B0, A0, A1, B1] }),
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
      a: [A0, B0, A1, B1],
    }),
    expected: { diverged: 1, gaps: 1 },
  },
  {
    name: 'a message nobody sent',
    history: history({
      server: [A0, B0, A1, B1, sent('z', 'zzz', 5)],
      b: [A0, B0, A1, B1, sent('z', 'zzz', 5), B2],
    }),
    expected: { unexpected: 3 },
  },
  {
    name: 'a body that came back altered (a lone surrogate turned into three U+FFFD)',
    history: history({
      server: [A0, B0, A1, sent('b1', 'b#\ufffd\ufffd\ufffd1', 4)],
      a: [A0, B0, A1, B1],
      b: [A0, B0, A1, sent('b1', 'b#\ufffd\ufffd\ufffd1', 4), B2],
    }),
    expected: { unexpected: 2 },
  },
  {
    name: 'a device refused faster than the bound (a hot loop)',
    history: history({
      devices: [
        HEALTHY[0] as DeviceReport,
        {
          device: 'b',
          refusedPerSecond: [0, 3, 900, 1_400, 2],
          batchesSent: 2_400,
          outboxAtDeadline: 0,
        },
      ],
    }),
    expected: { refused: 1 },
  },
  {
    name: 'a device whose engine reports no diagnostics',
    history: history({
      devices: [
        HEALTHY[0] as DeviceReport,
        { device: 'b', refusedPerSecond: null, batchesSent: 0, outboxAtDeadline: 0 },
      ],
    }),
    expected: { refused: 1 },
  },
  {
    name: 'a device whose outbox did not drain by the deadline',
    history: history({
      devices: [
        HEALTHY[0] as DeviceReport,
        { ...(HEALTHY[1] as DeviceReport), outboxAtDeadline: 3 },
      ],
    }),
    expected: { stuck: 1 },
  },
  {
    name: 'an over-limit body stored by the server',
    history: history({
      server: [A0, B0, A1, B1, sent('b2', 'b#2 xxxx', 5)],
      a: [A0, B0, A1, B1, sent('b2', 'b#2 xxxx', 5)],
      b: [A0, B0, A1, B1, sent('b2', 'b#2 xxxx', 5)],
    }),
    expected: { misrefused: 1 },
  },
  {
    name: 'an over-limit body stuck pending on its sender',
    history: history({
      b: [
        A0,
        B0,
        A1,
        B1,
        { id: 'b2', body: 'b#2 xxxx', seq: null, status: 'pending', error: null },
      ],
    }),
    expected: { misrefused: 1, diverged: 1 },
  },
  {
    name: 'an over-limit body failed for another reason',
    history: history({ b: [A0, B0, A1, B1, failed('b2', 'b#2 xxxx', 'internal')] }),
    expected: { misrefused: 1 },
  },
  {
    name: "an over-limit body missing from its sender's reloaded view",
    history: history({ b: [A0, B0, A1, B1] }),
    expected: { misrefused: 1 },
  },
  {
    name: "an over-limit body shown in another member's view",
    history: history({ a: [A0, B0, A1, B1, B2] }),
    expected: { misrefused: 1 },
  },
  {
    name: 'reconnects on a slow but steady link',
    history: history({
      slowLinks: [{ device: 'a', tabs: 2, connections: 5, drops: ['a/t1: transport close'] }],
    }),
    expected: { flapped: 3 },
  },
];

describe('chaos checker', () => {
  it.each(CASES)('$name', ({ history: run, expected }) => {
    const verdict = checkHistory(run);
    expect(findings(verdict)).toEqual({ ...ZERO, ...expected });
    expect(verdict.notes.length > 0).toBe(Object.values(expected).some((count) => count > 0));
  });

  it('finds a promised message whose room the server never stored', () => {
    const run: ChaosHistory = { attempts: ATTEMPTS, rooms: [], devices: [], slowLinks: [] };
    expect(checkHistory(run).lost).toBe(4);
  });

  it('bounds refusals per window, not in total: a steady trickle over a long run is healthy', () => {
    const trickle = Array.from({ length: 600 }, () => REFUSED_PER_WINDOW / 10);
    const run = history({
      devices: [
        { device: 'a', refusedPerSecond: trickle, batchesSent: 9_000, outboxAtDeadline: 0 },
      ],
    });
    expect(checkHistory(run).refused).toBe(0);
  });

  it('takes the stored form of a body (U+FFFD for a lone surrogate or a NUL) as that body', () => {
    expect(asStored('a\ud800b\udfffc\ud83d\ude00')).toBe('a\ufffdb\ufffdc\ud83d\ude00');
    expect(asStored('nul\u0000here')).toBe('nul\ufffdhere');
    const body = 'b#1 \ud800';
    const run: ChaosHistory = {
      attempts: [{ sender: 'b', room: 'r', index: 0, body, id: 'b1', expect: 'delivered' }],
      rooms: [
        {
          room: 'r',
          server: [sent('b1', asStored(body), 1)],
          views: [
            { observer: 'b live', device: 'b', reloaded: false, messages: [sent('b1', body, 1)] },
          ],
        },
      ],
      devices: [],
      slowLinks: [],
    };
    expect(findings(checkHistory(run))).toEqual(ZERO);
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
          attempts.push({ sender, room: `r${r}`, index: i, body, id: body, expect: 'delivered' });
          server.push(sent(body, body, server.length + 1));
        }
      }
      const views = Array.from({ length: 20 }, (_, v) => ({
        observer: `v${v}`,
        device: `c${r}${v % 10}`,
        reloaded: v >= 10,
        messages: server,
      }));
      rooms.push({ room: `r${r}`, server, views });
    }
    const started = performance.now();
    const verdict = checkHistory({ attempts, rooms, devices: [], slowLinks: [] });
    expect(findings(verdict)).toEqual(ZERO);
    expect(verdict.notes).toEqual([]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('ends a run with the one summary line, every fault kind counted', () => {
    const verdict = checkHistory(history({ b: [A0, B0, B1, B2] }));
    const kinds = { cut: 3, shared: 1, freeze: 2, slow: 1, ratelimit: 40, hostile: 2 };
    expect(summaryLine({ seed: 7, clients: 2, messages: 4, faults: 9, verdict, kinds })).toBe(
      'chaos: seed=7 clients=2 messages=4 faults=9 lost=1 duplicated=0 reordered=0 diverged=1 ' +
        'gaps=1 failedButStored=0 listedTwice=0 refused=0 stuck=0 misrefused=0 flapped=0 ' +
        'kinds=cut:3,shared:1,freeze:2,slow:1,ratelimit:40,hostile:2',
    );
  });
});
