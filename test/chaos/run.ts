import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { freePort, tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';
import { findings, summaryLine, type Verdict } from './checker.ts';
import { installDeviceClocks } from './device-clock.ts';
import { readServerRooms, sqliteCounts } from './observations.ts';
import type { ChaosProfile } from './profiles.ts';
import { SeededRandom } from './random.ts';
import { type RunKind, runSession } from './session.ts';
import type { OpCounts } from './workload.ts';

export type { RunKind } from './session.ts';

export interface ChaosRunOptions {
  profile: ChaosProfile;
  seed: number;
  /** Progress and diagnostics; the summary line is returned, not logged. */
  log?: (line: string) => void;
}

export interface ChaosRunResult {
  seed: number;
  verdict: Verdict;
  /** `chaos: seed=… lost=… … kinds=…`: the one line a run ends with. */
  summary: string;
  /** Every count the checker reports is 0 (including unexpected messages). */
  passed: boolean;
  wallMs: number;
  /**
   * How often each kind of fault happened, so a caller can tell a real run from a vacuous
   * one: the nemesis's faults, `shared` (profiles with several tabs) and `ratelimit`
   * (`rate_limited` answers the devices got).
   */
  kinds: Record<RunKind, number>;
  serverBoots: number;
  /** Attempts of the typing loops (the workload's own messages, not the faults' extra ones). */
  scripted: number;
  /** Every attempt, faults' extra messages included. */
  attempted: number;
  promised: number;
  /** The edits and deletes typed. */
  ops: OpCounts;
}

/**
 * One chaos run: the server as a child process over a SQLite file, every tab behind its own
 * fault proxy, the workload typing while the nemesis injects faults (see session.ts); then
 * the history checked.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { profile, seed } = options;
  const log = options.log ?? (() => {});
  // Before any engine exists: socket.io binds the global timers when it builds its objects.
  installDeviceClocks();
  const started = performance.now();
  const dir = tempDir('ferry-chaos-');
  const dbPath = `${dir.path}/ferry.db`;
  const port = await freePort();
  const server = new ServerProcess({ port, dbPath, rate: profile.rateLimit });
  let stored: ReturnType<typeof sqliteCounts> | null = null;
  try {
    await server.start();
    const counts = sqliteCounts(dbPath);
    stored = counts;
    const outcome = await runSession({
      profile,
      seed,
      random: new SeededRandom(seed),
      label: 'chaos',
      log,
      backend: {
        port,
        server,
        status: () => `${server.boots} server boots`,
        storedCounts: counts.counts,
        stopAndRead: async (views) => {
          counts.close();
          await server.stop();
          const store = new SqliteMessageStore(dbPath);
          try {
            return await readServerRooms(store, views);
          } finally {
            await store.close();
          }
        },
        recentLog: () => server.log,
      },
    });
    const { verdict, kinds } = outcome;
    return {
      seed,
      verdict,
      summary: summaryLine({
        seed,
        clients: outcome.clients,
        messages: outcome.promised,
        faults: outcome.faults,
        verdict,
        kinds: orderKinds(kinds),
      }),
      passed: Object.values(findings(verdict)).every((count) => count === 0),
      wallMs: performance.now() - started,
      kinds,
      serverBoots: server.boots,
      scripted: outcome.scripted,
      attempted: outcome.attempted,
      promised: outcome.promised,
      ops: outcome.ops,
    };
  } finally {
    stored?.close();
    await server.kill();
    dir.dispose();
  }
}

/** The summary's order: the original faults, then the newer kinds. */
function orderKinds(kinds: Record<RunKind, number>): Record<string, number> {
  const order: RunKind[] = [
    'cut',
    'latency',
    'blackhole',
    'server-kill',
    'client-reload',
    'client-kill',
    'client-offline',
    'shared',
    'freeze',
    'slow',
    'ratelimit',
    'burst',
    'hostile',
  ];
  return Object.fromEntries(order.map((kind) => [kind, kinds[kind]]));
}
