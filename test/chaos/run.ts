import { freePort, tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';
import { ChaosDevice } from './chaos-client.ts';
import {
  type ChaosHistory,
  checkHistory,
  type DeviceReport,
  findings,
  REFUSED_WINDOW_S,
  summaryLine,
  type Verdict,
} from './checker.ts';
import { installDeviceClocks } from './device-clock.ts';
import { type FaultKind, Nemesis } from './faults.ts';
import { readMemberViews, readServerRooms, settle } from './observations.ts';
import type { ChaosProfile } from './profiles.ts';
import { SeededRandom } from './random.ts';
import { Workload } from './workload.ts';

const POLL_MS = 200;
const PROGRESS_EVERY_MS = 10_000;
/** Refusals are sampled once a second: the checker bounds them per window of seconds. */
const SAMPLE_EVERY_MS = 1_000;
const CONNECT_TIMEOUT_MS = 30_000;
const GREET_TIMEOUT_MS = 30_000;

/** Every kind of fault a run reports, in the order the summary line lists them. */
export type RunKind = FaultKind | 'shared' | 'ratelimit';

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
}

/**
 * One chaos run: the server as a child process over a SQLite file, every tab behind its own
 * fault proxy, the workload typing while the nemesis injects faults; then heal, let every
 * outbox drain and everything converge, read every member's view (live and after a reload
 * from IndexedDB) and the server's store, and check the history.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { profile, seed } = options;
  const log = options.log ?? (() => {});
  // Before any engine exists: socket.io binds the global timers when it builds its objects.
  installDeviceClocks();
  const started = performance.now();
  const random = new SeededRandom(seed);
  const dir = tempDir('ferry-chaos-');
  const dbPath = `${dir.path}/ferry.db`;
  const port = await freePort();
  const server = new ServerProcess({ port, dbPath, rate: profile.rateLimit });
  const devices: ChaosDevice[] = [];
  const elapsed = () => `${((performance.now() - started) / 1_000).toFixed(1)} s`;

  try {
    await server.start();
    const tabsOf = drawSharedProfiles(profile, random.fork('shared'));
    for (let i = 0; i < profile.clients; i++) {
      const name = `c${String(i).padStart(2, '0')}`;
      const tabs = tabsOf.get(i) ?? 1;
      devices.push(
        await ChaosDevice.start({
          name,
          room: `chaos-${Math.floor(i / profile.roomSize)}`,
          dbName: `chaos-${seed}-${name}-${process.pid}-${Date.now()}`,
          serverPort: port,
          address: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
          tabs,
          offlineSignUp: tabs > 1,
          random: random.fork(`client ${name}`),
        }),
      );
    }
    const shared = devices.filter((device) => device.tabs.length > 1);
    log(`chaos: shared profiles ${shared.map((d) => `${d.name}×${d.tabs.length}`).join(', ')}`);
    await until('every tab to connect', CONNECT_TIMEOUT_MS, () =>
      devices.every((device) =>
        device.tabs.every((tab) => tab.engine?.connection.status === 'connected'),
      ),
    );

    const refusals = new RefusalSampler(devices);
    if (!refusals.available) {
      log(
        'chaos: engine.diagnostics is missing (src/client/engine.ts): rate_limited answers ' +
          'cannot be counted, so every device counts as refused',
      );
    }
    const workload = new Workload(devices, profile.workload, random.fork('workload'));
    // Every member stores its room from seq 1 before faults start, so every final view must
    // hold the whole room (a device joining late would start from recent history instead).
    await workload.greet();
    const greeted = await waitUntil(GREET_TIMEOUT_MS, () =>
      devices.every((device) =>
        device.tabs.every(
          (tab) => sentCount(tab.engine, device.room) >= roomMembers(devices, device.room),
        ),
      ),
    );
    // Not fatal: a tab that cannot settle the greeting is a finding the checker will report.
    if (!greeted) log('chaos: not every tab holds its room from seq 1; going on regardless');
    log(`chaos: ${devices.length} devices up, faults start (${elapsed()})`);

    const nemesis = new Nemesis({
      devices,
      server,
      plan: profile.faults,
      random: random.fork('nemesis'),
      progress: () => workload.progress,
      typist: workload,
    });
    const ticker = setInterval(() => {
      log(
        `chaos: ${(workload.progress * 100).toFixed(0)}% typed, ${nemesis.total} faults, ` +
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

    const settled = await settle(devices, dbPath, profile.settleTimeoutMs);
    // Before the views are read: reopening every device offline starts new engines.
    refusals.stop();
    if (settled.converged) log(`chaos: converged (${elapsed()})`);
    else log(`chaos: did not converge (${elapsed()}): ${settled.lagging.join('; ')}`);

    const views = await readMemberViews(devices);

    await server.stop();
    const reports: DeviceReport[] = devices.map((device) => ({
      device: device.name,
      refusedPerSecond: refusals.perSecond(device),
      batchesSent: refusals.batchesSent(device),
      outboxAtDeadline: settled.outboxAtDeadline.get(device.name) ?? 0,
    }));
    const history: ChaosHistory = {
      attempts: workload.attempts,
      rooms: await readServerRooms(dbPath, views),
      devices: reports,
      slowLinks: nemesis.slowLinks,
    };
    log(`chaos: ${describeRefusals(reports)}`);
    const verdict = checkHistory(history);
    for (const note of verdict.notes) log(`chaos: ${note}`);
    if (verdict.unexpected > 0) log(`chaos: unexpected=${verdict.unexpected}`);
    const failed = Object.values(findings(verdict)).reduce((sum, count) => sum + count, 0);
    if (failed > 0) {
      log(`chaos: server log (last lines):\n${server.log.slice(-40).join('\n')}`);
    }
    const kinds: Record<RunKind, number> = {
      ...nemesis.counts,
      shared: shared.length,
      ratelimit: refusals.total(),
    };
    return {
      seed,
      verdict,
      summary: summaryLine({
        seed,
        clients: devices.length,
        messages: workload.resolved,
        faults: nemesis.total,
        verdict,
        kinds: orderKinds(kinds),
      }),
      passed: failed === 0,
      wallMs: performance.now() - started,
      kinds,
      serverBoots: server.boots,
      scripted: workload.scripted,
      attempted: workload.attempts.length,
      promised: workload.resolved,
    };
  } finally {
    for (const device of devices) await device.dispose().catch(() => {});
    await server.kill();
    dir.dispose();
  }
}

/** Which devices are shared profiles (by index), and how many tabs each has open. */
function drawSharedProfiles(profile: ChaosProfile, random: SeededRandom): Map<number, number> {
  const indexes = Array.from({ length: profile.clients }, (_, i) => i);
  const tabs = new Map<number, number>();
  while (tabs.size < Math.min(profile.sharedProfiles, profile.clients)) {
    const index = random.pick(indexes.filter((i) => !tabs.has(i)));
    tabs.set(index, random.int(...profile.sharedTabs));
  }
  return tabs;
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

/**
 * Samples every device's running count of `rate_limited` answers once a second, so the
 * checker can bound how fast a device was refused, not only how often.
 */
class RefusalSampler {
  readonly #devices: readonly ChaosDevice[];
  /** Each device's running count of refusals, one entry a second. */
  readonly #samples = new Map<ChaosDevice, number[]>();
  readonly #sent = new Map<ChaosDevice, number>();
  readonly #timer: ReturnType<typeof setInterval>;
  #missing = false;

  constructor(devices: readonly ChaosDevice[]) {
    this.#devices = devices;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), SAMPLE_EVERY_MS);
  }

  /** Whether the engines report their diagnostics at all. */
  get available(): boolean {
    return !this.#missing;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }

  /** Refusals in each second; null when the engine does not report them. */
  perSecond(device: ChaosDevice): number[] | null {
    const samples = this.#samples.get(device);
    if (this.#missing || !samples) return null;
    return samples.slice(1).map((count, i) => count - (samples[i] ?? 0));
  }

  /** `send` batches the device emitted up to the last sample. */
  batchesSent(device: ChaosDevice): number {
    return this.#sent.get(device) ?? 0;
  }

  total(): number {
    if (this.#missing) return 0;
    return this.#devices.reduce((sum, device) => sum + (this.#samples.get(device)?.at(-1) ?? 0), 0);
  }

  #sample(): void {
    for (const device of this.#devices) {
      const diagnostics = device.diagnostics();
      if (!diagnostics) {
        this.#missing = true;
        continue;
      }
      const samples = this.#samples.get(device) ?? [];
      samples.push(diagnostics.batchesRefused);
      this.#samples.set(device, samples);
      this.#sent.set(device, diagnostics.batchesSent);
    }
  }
}

/** The device refused most in one window, for a reader judging the bound. */
function describeRefusals(reports: readonly DeviceReport[]): string {
  let worst = { device: '-', refused: 0 };
  for (const report of reports) {
    const perSecond = report.refusedPerSecond ?? [];
    for (let end = 0; end < perSecond.length; end++) {
      const start = Math.max(0, end - REFUSED_WINDOW_S + 1);
      const refused = perSecond.slice(start, end + 1).reduce((sum, count) => sum + count, 0);
      if (refused > worst.refused) worst = { device: report.device, refused };
    }
  }
  return `most rate_limited answers in ${REFUSED_WINDOW_S} s: ${worst.refused} (${worst.device})`;
}

function describeFaults(nemesis: Nemesis): string {
  const counts = Object.entries(nemesis.counts).map(([kind, count]) => `${kind} ${count}`);
  const unfired = nemesis.unfired > 0 ? `; ${nemesis.unfired} scheduled faults never fired` : '';
  return `${counts.join(', ')}; ${nemesis.midFlushHits} device faults mid-flush${unfired}`;
}

function sentCount(engine: ChaosDevice['engine'], room: string): number {
  const messages = engine?.room(room).messages ?? [];
  return messages.filter((message) => message.status === 'sent').length;
}

function roomMembers(devices: readonly ChaosDevice[], room: string): number {
  return devices.filter((device) => device.room === room).length;
}

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  if (!(await waitUntil(timeoutMs, check))) {
    throw new Error(`chaos: timed out waiting for ${what}`);
  }
}

/** Polls `check`; false if it still fails after `timeoutMs`. */
async function waitUntil(timeoutMs: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}
