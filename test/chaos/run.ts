import { freePort, tempDir } from '../support/server.ts';
import { ChaosClient } from './chaos-client.ts';
import { type ChaosHistory, checkHistory, summaryLine, type Verdict } from './checker.ts';
import { Nemesis } from './faults.ts';
import { converge, readMemberViews, readServerRooms } from './observations.ts';
import type { ChaosProfile } from './profiles.ts';
import { SeededRandom } from './random.ts';
import { ServerProcess } from './server-process.ts';
import { Workload } from './workload.ts';

const POLL_MS = 200;
const PROGRESS_EVERY_MS = 10_000;

export interface ChaosRunOptions {
  profile: ChaosProfile;
  seed: number;
  /** Progress and diagnostics; the summary line is returned, not logged. */
  log?: (line: string) => void;
}

export interface ChaosRunResult {
  seed: number;
  verdict: Verdict;
  /** `chaos: seed=… lost=… …`: the one line a run ends with. */
  summary: string;
  /** Every count the checker reports is 0 (including unexpected messages). */
  passed: boolean;
  wallMs: number;
  /** What actually happened, so a caller can tell a real run from a vacuous one. */
  faults: Nemesis['counts'];
  serverBoots: number;
  attempted: number;
  promised: number;
}

/**
 * One chaos run: the server as a child process over a SQLite file, every client behind its
 * own fault proxy, the workload typing while the nemesis injects faults; then heal,
 * let everything converge, read every member's view (live and after a reload from
 * IndexedDB) and the server's store, and check the history.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { profile, seed } = options;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const random = new SeededRandom(seed);
  const dir = tempDir('ferry-chaos-');
  const dbPath = `${dir.path}/ferry.db`;
  const port = await freePort();
  const server = new ServerProcess({ port, dbPath });
  const clients: ChaosClient[] = [];
  const elapsed = () => `${((performance.now() - started) / 1_000).toFixed(1)} s`;

  try {
    await server.start();
    for (let i = 0; i < profile.clients; i++) {
      const name = `c${String(i).padStart(2, '0')}`;
      const room = `chaos-${Math.floor(i / profile.roomSize)}`;
      clients.push(
        await ChaosClient.start({
          name,
          room,
          dbName: `chaos-${seed}-${name}-${process.pid}-${Date.now()}`,
          serverPort: port,
          address: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
          random: random.fork(`client ${name}`).source,
        }),
      );
    }
    await until('every client to connect', 30_000, () =>
      clients.every((client) => client.engine?.connection.status === 'connected'),
    );

    const workload = new Workload(clients, profile.workload, random.fork('workload'));
    // Every member stores its room from seq 1 before faults start, so every final view must
    // hold the whole room (a device joining late would start from recent history instead).
    await workload.greet();
    await until('every member to hold its room from seq 1', 30_000, () =>
      clients.every((client) => sentCount(client) >= roomMembers(clients, client.room)),
    );
    log(`chaos: ${clients.length} clients up, faults start (${elapsed()})`);

    const nemesis = new Nemesis({
      clients,
      server,
      plan: profile.faults,
      random: random.fork('nemesis'),
      progress: () => workload.progress,
    });
    const ticker = setInterval(() => {
      log(
        `chaos: ${(workload.progress * 100).toFixed(0)}% sent, ${nemesis.total} faults, ` +
          `${server.boots} server boots (${elapsed()})`,
      );
    }, PROGRESS_EVERY_MS);
    nemesis.start();
    try {
      await workload.run();
    } finally {
      clearInterval(ticker);
      await nemesis.stop();
    }
    log(`chaos: workload done, healed (${elapsed()}); ${describeFaults(nemesis)}`);

    const converged = await converge(clients, dbPath, profile.convergeTimeoutMs);
    if (!converged.ok) log(`chaos: did not converge: ${converged.lagging.join('; ')}`);
    else log(`chaos: converged (${elapsed()})`);

    const views = await readMemberViews(clients);

    await server.stop();
    const history: ChaosHistory = {
      attempts: workload.attempts,
      rooms: await readServerRooms(dbPath, views),
    };
    const verdict = checkHistory(history);
    for (const note of verdict.notes) log(`chaos: ${note}`);
    if (verdict.unexpected > 0) log(`chaos: unexpected=${verdict.unexpected}`);
    const failed =
      verdict.lost + verdict.duplicated + verdict.reordered + verdict.diverged + verdict.gaps;
    if (failed + verdict.unexpected > 0) {
      log(`chaos: server log (last lines):\n${server.log.slice(-40).join('\n')}`);
    }
    return {
      seed,
      verdict,
      summary: summaryLine({
        seed,
        clients: clients.length,
        messages: workload.resolved,
        faults: nemesis.total,
        verdict,
      }),
      passed: failed + verdict.unexpected === 0,
      wallMs: performance.now() - started,
      faults: { ...nemesis.counts },
      serverBoots: server.boots,
      attempted: workload.attempts.length,
      promised: workload.resolved,
    };
  } finally {
    for (const client of clients) await client.dispose().catch(() => {});
    await server.kill();
    dir.dispose();
  }
}

function describeFaults(nemesis: Nemesis): string {
  const counts = Object.entries(nemesis.counts).map(([kind, count]) => `${kind} ${count}`);
  const unfired = nemesis.unfired > 0 ? `; ${nemesis.unfired} scheduled faults never fired` : '';
  return `${counts.join(', ')}; ${nemesis.midFlushHits} client faults mid-flush${unfired}`;
}

function sentCount(client: ChaosClient): number {
  const messages = client.engine?.room(client.room).messages ?? [];
  return messages.filter((message) => message.status === 'sent').length;
}

function roomMembers(clients: readonly ChaosClient[], room: string): number {
  return clients.filter((client) => client.room === room).length;
}

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
