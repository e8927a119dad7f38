import { compareSent, RoomView } from '../src/client/room-view.ts';
import type { SentMessage } from '../src/client/types.ts';
import { alternate } from './alternate.ts';
import type { BenchConfig } from './config.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { median } from './stats.ts';

const ROOM = 'bench-merge';
/** Existing messages sit at ts = seq * TS_STEP_MS, so interleaved ones fit in between. */
const TS_STEP_MS = 10;

/** A sent message with a UUID-shaped id derived from `n` (ids must sort like real ones). */
function message(n: number, ts: number): SentMessage {
  const id = `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
  return {
    id,
    room: ROOM,
    authorId: 'bench-user',
    author: 'bench',
    body: `message ${n}`,
    status: 'sent',
    seq: n,
    ts,
  };
}

function existingRoom(count: number): SentMessage[] {
  return Array.from({ length: count }, (_, i) => message(i + 1, (i + 1) * TS_STEP_MS));
}

/** The next page after everything (what catch-up and live traffic deliver). */
function newestPage(roomMessages: number, count: number): SentMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const n = roomMessages + i + 1;
    return message(n, n * TS_STEP_MS);
  });
}

/** Messages spread evenly between existing ones (two devices' histories meeting). */
function interleaved(roomMessages: number, count: number): SentMessage[] {
  const stride = Math.max(1, Math.floor(roomMessages / count));
  return Array.from({ length: count }, (_, i) =>
    message(roomMessages * 2 + i + 1, (i * stride + 1) * TS_STEP_MS + TS_STEP_MS / 2),
  );
}

/** The naive baseline: concatenate, dedup by id with a Set, sort. */
export function naiveMerge(
  existing: readonly SentMessage[],
  incoming: readonly SentMessage[],
): SentMessage[] {
  const seen = new Set<string>();
  const merged: SentMessage[] = [];
  for (const candidate of [...incoming, ...existing]) {
    if (seen.has(candidate.id)) continue;
    seen.add(candidate.id);
    merged.push(candidate);
  }
  return merged.sort(compareSent);
}

/** Median of `calls` timed calls of `run`, in ms; the result is checked so it is not dropped. */
async function medianCallMs(
  calls: number,
  run: () => readonly unknown[],
  expectedLength: number,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const result = run();
    times.push(performance.now() - start);
    if (result.length !== expectedLength) {
      throw new Error(`merge produced ${result.length} messages, expected ${expectedLength}`);
    }
  }
  // Yield between repetitions so timers and GC of other work can run.
  await new Promise((resolve) => setImmediate(resolve));
  return median(times);
}

/** Benchmark 3: Ferry's RoomView merge against the naive concat + Set + sort. */
export async function benchMerge(config: BenchConfig): Promise<ReportRow[]> {
  const { roomMessages, pageMessages, interleavedMessages, callsPerRep, naiveCallsPerRep } =
    config.merge;
  const existing = existingRoom(roomMessages);
  const view = RoomView.from(existing);
  const cases = [
    {
      name: `merge: page of ${pageMessages} into ${roomMessages.toLocaleString('en')}-message view`,
      incoming: newestPage(roomMessages, pageMessages),
      goal: {
        text: '>= 40x faster than naive (ratio <= 0.025) and < 1 ms',
        criteria: [
          { figure: 'ratio', op: '<=', value: 1 / 40 },
          { figure: 'ferry', op: '<', value: 1 },
        ] as const,
      },
    },
    {
      name: `merge: ${interleavedMessages.toLocaleString('en')} interleaved into ${roomMessages.toLocaleString('en')}`,
      incoming: interleaved(roomMessages, interleavedMessages),
      goal: undefined,
    },
  ];
  const rows: ReportRow[] = [];
  for (const testCase of cases) {
    const expected = roomMessages + testCase.incoming.length;
    const samples = await alternate(config.reps, {
      ferry: () => medianCallMs(callsPerRep, () => view.withSent(testCase.incoming).sent, expected),
      naive: () =>
        medianCallMs(naiveCallsPerRep, () => naiveMerge(existing, testCase.incoming), expected),
    });
    rows.push(
      makeRow({
        name: `${testCase.name} vs naive sort`,
        unit: 'ms',
        better: 'lower',
        ferry: samples.ferry,
        baseline: samples.naive,
        goal: testCase.goal,
      }),
    );
  }
  return rows;
}
