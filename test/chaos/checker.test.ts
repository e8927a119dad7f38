import { describe, expect, it } from 'vitest';
import {
  asStored,
  type ChaosHistory,
  checkHistory,
  type DeviceReport,
  findings,
  type MemberView,
  type ObservedMessage,
  type ObservedOp,
  type OpAttempt,
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
    ops: [],
    rooms: [{ room: 'r', server, ops: [], views }],
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
  staleEdit: 0,
  undeleted: 0,
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
    const run: ChaosHistory = {
      attempts: ATTEMPTS,
      ops: [],
      rooms: [],
      devices: [],
      slowLinks: [],
    };
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
      ops: [],
      rooms: [
        {
          room: 'r',
          server: [sent('b1', asStored(body), 1)],
          ops: [],
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
      rooms.push({ room: `r${r}`, server, ops: [], views });
    }
    const started = performance.now();
    const verdict = checkHistory({ attempts, ops: [], rooms, devices: [], slowLinks: [] });
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
        'staleEdit=0 undeleted=0 kinds=cut:3,shared:1,freeze:2,slow:1,ratelimit:40,hostile:2',
    );
  });
});

/**
 * The same room after the people changed their messages: a edited a#0 twice, b deleted b#0,
 * a deleted a#1 while it was pending (never stored), and b edited b#1 while it was pending
 * (rewritten in place: stored with the new body, unmarked, with no edit in the log).
 */
const OPS: OpAttempt[] = [
  op('a', 'a0', 'edit', 'a#0 edit 1', 'sent'),
  op('b', 'b0', 'delete', '', 'sent'),
  op('a', 'a0', 'edit', 'a#0 edit 2', 'sent'),
  op('a', 'a1', 'delete', '', 'pending'),
  op('b', 'b1', 'edit', 'b#1 edit 1', 'pending'),
];

function op(
  sender: string,
  target: string,
  kind: OpAttempt['kind'],
  body: string,
  targetStatus: OpAttempt['targetStatus'],
  resolved = true,
): OpAttempt {
  return { sender, room: 'r', target, kind, body, targetStatus, resolved, error: null };
}

function logged(id: string, seq: number, kind: ObservedOp['kind'], target: string, body = '') {
  return { id, seq, kind, target, body, erased: false };
}

const EDITED_A0: ObservedMessage = { ...sent('a0', 'a#0 edit 2', 1), edited: true };
const DELETED_B0: ObservedMessage = { ...sent('b0', '', 2), deleted: true };
const EDITED_B1: ObservedMessage = sent('b1', 'b#1 edit 1', 6);
const LOG: ObservedOp[] = [
  logged('e1', 3, 'edit', 'a0', 'a#0 edit 1'),
  logged('d1', 4, 'delete', 'b0'),
  logged('e2', 5, 'edit', 'a0', 'a#0 edit 2'),
];

/** The changed room as everyone holds it when all went well, with the parts a case changes. */
function changed(change: {
  ops?: OpAttempt[];
  server?: ObservedMessage[];
  log?: ObservedOp[];
  a?: ObservedMessage[];
  b?: ObservedMessage[];
}): ChaosHistory {
  const server = change.server ?? [EDITED_A0, DELETED_B0, EDITED_B1];
  return {
    attempts: ATTEMPTS,
    ops: change.ops ?? OPS,
    rooms: [
      {
        room: 'r',
        server,
        ops: change.log ?? LOG,
        views: [
          { observer: 'a live', device: 'a', reloaded: false, messages: change.a ?? server },
          {
            observer: 'b reloaded',
            device: 'b',
            reloaded: true,
            messages: change.b ?? [...server, B2],
          },
        ],
      },
    ],
    devices: HEALTHY,
    slowLinks: [],
  };
}

const EDIT_CASES: { name: string; history: ChaosHistory; expected: Partial<typeof ZERO> }[] = [
  {
    name: 'a clean run (the seqs of edits and deletes are no gaps, a pending delete is no loss)',
    history: changed({}),
    expected: {},
  },
  {
    name: 'a view that shows the body from before the last edit',
    history: changed({ a: [{ ...EDITED_A0, body: 'a#0 edit 1' }, DELETED_B0, EDITED_B1] }),
    expected: { staleEdit: 1 },
  },
  {
    name: 'a view that never heard of the edits (the original body, unmarked)',
    history: changed({ b: [sent('a0', 'a#0', 1), DELETED_B0, EDITED_B1, B2] }),
    expected: { staleEdit: 1 },
  },
  {
    name: 'the server and every view without the last edit (an accepted edit lost)',
    history: changed({
      server: [{ ...EDITED_A0, body: 'a#0 edit 1' }, DELETED_B0, { ...EDITED_B1, seq: 5 }],
      log: LOG.slice(0, 2),
    }),
    expected: { staleEdit: 3 },
  },
  {
    name: 'a view that marks edited a message the server does not',
    history: changed({ a: [EDITED_A0, DELETED_B0, { ...EDITED_B1, edited: true }] }),
    expected: { staleEdit: 1 },
  },
  {
    name: 'a deleted message shown with its body in one view (the delete never reached it)',
    history: changed({ b: [EDITED_A0, sent('b0', 'b#0', 2), EDITED_B1, B2] }),
    expected: { undeleted: 1 },
  },
  {
    name: 'a deleted message that is no tombstone on the server or anywhere',
    history: changed({ server: [EDITED_A0, sent('b0', 'b#0', 2), EDITED_B1] }),
    expected: { undeleted: 3 },
  },
  {
    name: 'a tombstone that kept its body',
    history: changed({ a: [EDITED_A0, { ...DELETED_B0, body: 'b#0' }, EDITED_B1] }),
    expected: { undeleted: 1 },
  },
  {
    name: 'a message deleted while pending but stored with its body',
    history: changed({ server: [EDITED_A0, DELETED_B0, EDITED_B1, sent('a1', 'a#1', 7)] }),
    expected: { undeleted: 3 },
  },
  {
    name: 'a message deleted while pending that had left already: stored, then deleted',
    history: changed({
      server: [EDITED_A0, DELETED_B0, EDITED_B1, { ...sent('a1', '', 7), deleted: true }],
      log: [...LOG, logged('d2', 8, 'delete', 'a1')],
    }),
    expected: {},
  },
  {
    name: "a message deleted while pending, still shown in its sender's view",
    history: changed({
      a: [
        EDITED_A0,
        DELETED_B0,
        EDITED_B1,
        { id: 'a1', body: 'a#1', seq: null, status: 'pending', error: null },
      ],
    }),
    expected: { diverged: 1, undeleted: 1 },
  },
  {
    name: 'a message deleted while pending, stored as a tombstone but missing from one view',
    history: changed({
      server: [EDITED_A0, DELETED_B0, EDITED_B1, { ...sent('a1', '', 7), deleted: true }],
      log: [...LOG, logged('d2', 8, 'delete', 'a1')],
      b: [EDITED_A0, DELETED_B0, EDITED_B1, B2],
    }),
    expected: { lost: 1, diverged: 1, gaps: 1 },
  },
  {
    name: 'an edit still shown waiting once everything settled',
    history: changed({ a: [{ ...EDITED_A0, changing: true }, DELETED_B0, EDITED_B1] }),
    expected: { diverged: 1 },
  },
  {
    name: 'a message deleted though nobody deleted it',
    history: changed({
      server: [EDITED_A0, DELETED_B0, { ...EDITED_B1, body: '', deleted: true }],
      log: [...LOG, logged('d2', 7, 'delete', 'b1')],
    }),
    expected: { unexpected: 4 },
  },
  {
    name: 'an edit stored twice (a resend that was not idempotent)',
    history: changed({ log: [...LOG, logged('e3', 7, 'edit', 'a0', 'a#0 edit 2')] }),
    expected: { duplicated: 1 },
  },
  {
    name: 'an edit stored before its message',
    history: changed({
      server: [{ ...EDITED_A0, seq: 3 }, DELETED_B0, EDITED_B1],
      log: [logged('e1', 1, 'edit', 'a0', 'a#0 edit 1'), ...LOG.slice(1)],
    }),
    expected: { reordered: 1 },
  },
  {
    name: 'an edit in the log that nobody typed',
    history: changed({ log: [...LOG, logged('x', 7, 'edit', 'b1', 'zzz')] }),
    expected: { unexpected: 1 },
  },
  {
    name: 'an edited body that came back altered',
    history: changed({ a: [{ ...EDITED_A0, body: 'a#0 edit 2!' }, DELETED_B0, EDITED_B1] }),
    expected: { unexpected: 1 },
  },
  {
    name: 'an edit whose call rejected, not applied (it may or may not have been queued)',
    history: changed({ ops: [...OPS, op('a', 'a0', 'edit', 'a#0 edit 3', 'sent', false)] }),
    expected: {},
  },
  {
    name: 'an edit whose call rejected, applied',
    history: changed({
      ops: [...OPS, op('a', 'a0', 'edit', 'a#0 edit 3', 'sent', false)],
      server: [{ ...EDITED_A0, body: 'a#0 edit 3' }, DELETED_B0, EDITED_B1],
      log: [...LOG, logged('e3', 7, 'edit', 'a0', 'a#0 edit 3')],
    }),
    expected: {},
  },
  {
    name: 'a delete whose call rejected, not applied',
    history: changed({ ops: [...OPS, op('b', 'b1', 'delete', '', 'sent', false)] }),
    expected: {},
  },
];

describe('chaos checker, edits and deletes', () => {
  it.each(EDIT_CASES)('$name', ({ history: run, expected }) => {
    const verdict = checkHistory(run);
    expect(findings(verdict)).toEqual({ ...ZERO, ...expected });
    expect(verdict.notes.length > 0).toBe(Object.values(expected).some((count) => count > 0));
  });

  it('takes an edit erased by the delete of its message (its body gone) as typed', () => {
    const erased = { ...logged('e1', 3, 'edit', 'b0'), erased: true };
    const run = changed({
      ops: [op('b', 'b0', 'edit', 'b#0 edit 1', 'sent'), ...OPS],
      log: [erased, ...LOG.slice(1)],
      server: [EDITED_A0, DELETED_B0, EDITED_B1],
    });
    // a0's first edit is gone from this log: its seq 3 holds b0's erased edit instead.
    expect(findings(checkHistory(run))).toEqual(ZERO);
  });

  it('names the body a stale copy should have had', () => {
    const verdict = checkHistory(
      changed({ a: [{ ...EDITED_A0, body: 'a#0 edit 1' }, DELETED_B0, EDITED_B1] }),
    );
    expect(verdict.notes).toEqual([
      'staleEdit: "a#0 edit 1" (a0) in a live view of r, but its last edit is "a#0 edit 2"',
    ]);
  });
});
