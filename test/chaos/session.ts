// The part of a chaos run that does not depend on what serves it: devices, workload, nemesis,
// settle, views and the checker. run.ts runs it against one server over SQLite,
// run-cluster.ts against several nodes over PostgreSQL and Redis.
import type { ServerProcess } from '../support/server-process.ts';
import { ChaosDevice } from './chaos-client.ts';
import {
  type ChaosHistory,
  checkHistory,
  type DeviceReport,
  findings,
  type MemberView,
  REFUSED_WINDOW_S,
  type Verdict,
} from './checker.ts';
import { type ExternalFault, type FaultKind, Nemesis, type Typist } from './faults.ts';
import { readMemberViews, type Settled, type StoredCounts, settle } from './observations.ts';
import type { ChaosProfile } from './profiles.ts';
import type { SeededRandom } from './random.ts';
import { type OpCounts, Workload } from './workload.ts';

const POLL_MS = 200;
const PROGRESS_EVERY_MS = 10_000;
/** Refusals are sampled once a second: the checker bounds them per window of seconds. */
const SAMPLE_EVERY_MS = 1_000;
const CONNECT_TIMEOUT_MS = 30_000;
const GREET_TIMEOUT_MS = 30_000;

/** Every kind of fault a run reports: the nemesis's, `shared` profiles and `ratelimit` holds. */
export type RunKind = FaultKind | 'shared' | 'ratelimit';

/** What serves a run: one server process, or a cluster behind a load balancer. */
export interface ChaosBackend {
  /** Where the devices' fault proxies connect. */
  readonly port: number;
  /** The server the nemesis's `serverKills` kill; null when the backend has its own faults. */
  readonly server: ServerProcess | null;
  /** A few words on its state for the progress lines (`2 server boots`). */
  status(): string;
  storedCounts: StoredCounts;
  /** Stops serving gracefully, then reads every room of `views` from the store. */
  stopAndRead(views: ReadonlyMap<string, MemberView[]>): Promise<ChaosHistory['rooms']>;
  /** The servers' last log lines, for a failed run. */
  recentLog(): readonly string[];
}

/** What a session needs of a profile (the cluster's profiles have more). */
export type SessionProfile = Pick<
  ChaosProfile,
  'clients' | 'roomSize' | 'sharedProfiles' | 'sharedTabs' | 'workload' | 'faults'
> & { settleTimeoutMs: number };

export interface SessionOptions {
  profile: SessionProfile;
  seed: number;
  random: SeededRandom;
  backend: ChaosBackend;
  /** Prefix of every log line (`chaos`, `chaos-cluster`). */
  label: string;
  log: (line: string) => void;
  /**
   * Faults the nemesis schedules beside its own, made once the devices are up; `typist`
   * types for a device on a fault's behalf, recorded like the workload's own messages.
   */
  externalFaults?: (devices: readonly ChaosDevice[], typist: Typist) => readonly ExternalFault[];
  /** Called once the workload is done and the nemesis has healed everything. */
  onHealed?: () => void;
}

export interface SessionOutcome {
  verdict: Verdict;
  /** The sum of every count the checker reports (0 for a pass). */
  failed: number;
  clients: number;
  kinds: Record<RunKind, number>;
  externalCounts: Record<string, number>;
  externalErrors: readonly string[];
  /** Faults injected in all, external ones included. */
  faults: number;
  settled: Settled;
  /** Attempts of the typing loops (the workload's own messages, not the faults' extra ones). */
  scripted: number;
  /** Every attempt, faults' extra messages included. */
  attempted: number;
  promised: number;
  /** The edits and deletes typed. */
  ops: OpCounts;
}

/**
 * Every tab behind its own fault proxy towards `backend`, the workload typing while the
 * nemesis injects faults; then heal, let every outbox drain and everything converge, read
 * every member's view (live and after a reload from IndexedDB) and the server's store, and
 * check the history. The caller owns the backend and its clocks (`installDeviceClocks`).
 */
export async function runSession(options: SessionOptions): Promise<SessionOutcome> {
  const { profile, seed, random, backend, label } = options;
  const started = performance.now();
  const log = (line: string) => options.log(`${label}: ${line}`);
  const elapsed = () => `${((performance.now() - started) / 1_000).toFixed(1)} s`;
  const devices: ChaosDevice[] = [];
  try {
    const tabsOf = drawSharedProfiles(profile, random.fork('shared'));
    for (let i = 0; i < profile.clients; i++) {
      const name = `c${String(i).padStart(2, '0')}`;
      const tabs = tabsOf.get(i) ?? 1;
      devices.push(
        await ChaosDevice.start({
          name,
          room: `chaos-${Math.floor(i / profile.roomSize)}`,
          dbName: `chaos-${seed}-${name}-${process.pid}-${Date.now()}`,
          serverPort: backend.port,
          address: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
          tabs,
          offlineSignUp: tabs > 1,
          random: random.fork(`client ${name}`),
        }),
      );
    }
    const shared = devices.filter((device) => device.tabs.length > 1);
    log(`shared profiles ${shared.map((d) => `${d.name}×${d.tabs.length}`).join(', ')}`);
    await until('every tab to connect', CONNECT_TIMEOUT_MS, () =>
      devices.every((device) =>
        device.tabs.every((tab) => tab.engine?.connection.status === 'connected'),
      ),
    );

    const refusals = new RefusalSampler(devices);
    if (!refusals.available) {
      log(
        'engine.diagnostics is missing (src/client/engine.ts): rate_limited answers ' +
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
    if (!greeted) log('not every tab holds its room from seq 1; going on regardless');
    log(`${devices.length} devices up, faults start (${elapsed()})`);

    const nemesis = new Nemesis({
      devices,
      server: backend.server,
      plan: profile.faults,
      random: random.fork('nemesis'),
      progress: () => workload.progress,
      typist: workload,
      external: options.externalFaults?.(devices, workload),
    });
    const ticker = setInterval(() => {
      log(
        `${(workload.progress * 100).toFixed(0)}% typed, ${nemesis.total} faults, ` +
          `${backend.status()} (${elapsed()})`,
      );
    }, PROGRESS_EVERY_MS);
    nemesis.start();
    try {
      await workload.run();
    } finally {
      clearInterval(ticker);
      await nemesis.stop();
    }
    log(`workload done, healed (${elapsed()}); ${describeFaults(nemesis)}`);
    options.onHealed?.();

    const settled = await settle(devices, backend.storedCounts, profile.settleTimeoutMs);
    // Before the views are read: reopening every device offline starts new engines.
    refusals.stop();
    if (settled.converged) log(`converged (${elapsed()})`);
    else log(`did not converge (${elapsed()}): ${settled.lagging.join('; ')}`);

    const views = await readMemberViews(devices);
    const rooms = await backend.stopAndRead(views);
    const reports: DeviceReport[] = devices.map((device) => ({
      device: device.name,
      refusedPerSecond: refusals.perSecond(device),
      batchesSent: refusals.batchesSent(device),
      outboxAtDeadline: settled.outboxAtDeadline.get(device.name) ?? 0,
    }));
    const history: ChaosHistory = {
      attempts: workload.attempts,
      ops: workload.ops,
      rooms,
      devices: reports,
      slowLinks: nemesis.slowLinks,
    };
    log(describeRefusals(reports));
    log(describeOps(workload.opCounts()));
    log(describeLogs(rooms));
    const verdict = checkHistory(history);
    for (const note of verdict.notes) log(note);
    if (verdict.unexpected > 0) log(`unexpected=${verdict.unexpected}`);
    for (const error of nemesis.externalErrors) log(`fault failed: ${error}`);
    const failed = Object.values(findings(verdict)).reduce((sum, count) => sum + count, 0);
    if (failed > 0 || nemesis.externalErrors.length > 0) {
      log(`server log (last lines):\n${backend.recentLog().slice(-40).join('\n')}`);
    }
    return {
      verdict,
      failed,
      clients: devices.length,
      kinds: { ...nemesis.counts, shared: shared.length, ratelimit: refusals.total() },
      externalCounts: nemesis.externalCounts,
      externalErrors: nemesis.externalErrors,
      faults: nemesis.total,
      settled,
      scripted: workload.scripted,
      attempted: workload.attempts.length,
      promised: workload.resolved,
      ops: workload.opCounts(),
    };
  } finally {
    for (const device of devices) await device.dispose().catch(() => {});
  }
}

/** Which devices are shared profiles (by index), and how many tabs each has open. */
function drawSharedProfiles(profile: SessionProfile, random: SeededRandom): Map<number, number> {
  const indexes = Array.from({ length: profile.clients }, (_, i) => i);
  const tabs = new Map<number, number>();
  while (tabs.size < Math.min(profile.sharedProfiles, profile.clients)) {
    const index = random.pick(indexes.filter((i) => !tabs.has(i)));
    tabs.set(index, random.int(...profile.sharedTabs));
  }
  return tabs;
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

function describeOps(ops: OpCounts): string {
  const rejected = Object.entries(ops.rejected).map(([why, count]) => `${count} ${why}`);
  return (
    `${ops.edits} edits (${ops.reedits} of a message edited before), ${ops.deletes} deletes; ` +
    `${ops.onPending} typed on a message still pending; ` +
    `rejected: ${rejected.join(', ') || 'none'}`
  );
}

/** What the server's logs hold of the edits and deletes, so a reader sees what was checked. */
function describeLogs(rooms: ChaosHistory['rooms']): string {
  const server = rooms.flatMap((room) => room.server);
  const ops = rooms.flatMap((room) => room.ops);
  const edits = ops.filter((op) => op.kind === 'edit');
  return (
    `server logs: ${server.length} messages (${server.filter((m) => m.edited).length} edited, ` +
    `${server.filter((m) => m.deleted).length} deleted), ${edits.length} edits ` +
    `(${edits.filter((op) => op.erased).length} erased), ${ops.length - edits.length} deletes`
  );
}

function describeFaults(nemesis: Nemesis): string {
  const counts = [...Object.entries(nemesis.counts), ...Object.entries(nemesis.externalCounts)]
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`);
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
    throw new Error(`timed out waiting for ${what}`);
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
