import type { ProxyMode } from '../support/fault-proxy.ts';
import type { ChaosClient } from './chaos-client.ts';
import type { SeededRandom } from './random.ts';
import type { ServerProcess } from './server-process.ts';

type Range = readonly [min: number, max: number];

/** What the nemesis does during a run; counts are per run. */
export interface FaultPlan {
  /** All connections of all clients are reset at random moments, this far apart on average. */
  cutMeanMs: number;
  /** Latency is redrawn (0..max, with jitter up to itself) this often on average. */
  latencyMaxMs: number;
  latencyChangeMeanMs: number;
  /** The whole network goes silent (existing links stay open and pass nothing). */
  blackholes: number;
  blackholeMs: Range;
  /** SIGKILLs of the server while clients are sending; each one restarts it. */
  serverKills: number;
  serverDowntimeMs: Range;
  /** Graceful reloads of a client, preferring one with messages still to flush. */
  reloads: number;
  /** Kills of a client without cleanup, preferring one with messages still to flush. */
  kills: number;
  killDowntimeMs: Range;
  /** A client's platform reports offline for a while; its user keeps typing. */
  offlines: number;
  offlineMs: Range;
}

export type FaultKind =
  | 'cut'
  | 'latency'
  | 'blackhole'
  | 'server-kill'
  | 'client-reload'
  | 'client-kill'
  | 'client-offline';

interface ScheduledFault {
  /** Share of the workload's attempts after which it fires. */
  at: number;
  kind: 'blackhole' | 'server-kill' | 'client-reload' | 'client-kill' | 'client-offline';
}

const PROGRESS_POLL_MS = 50;
const NO_LATENCY: ProxyMode = { kind: 'pass' };

/**
 * The nemesis. Cuts and latency changes run on the clock (Poisson processes); the heavier
 * faults fire at progress points of the workload drawn up front, so a seed gives the same
 * schedule on a fast machine and a slow one. Which client a client fault hits is decided
 * when it fires (the one with the most left to flush), so that part depends on timing.
 */
export class Nemesis {
  readonly counts: Record<FaultKind, number> = {
    cut: 0,
    latency: 0,
    blackhole: 0,
    'server-kill': 0,
    'client-reload': 0,
    'client-kill': 0,
    'client-offline': 0,
  };
  /** Client faults that hit a client while it was flushing. */
  midFlushHits = 0;
  readonly #clients: readonly ChaosClient[];
  readonly #server: ServerProcess;
  readonly #plan: FaultPlan;
  readonly #random: SeededRandom;
  readonly #progress: () => number;
  readonly #schedule: ScheduledFault[];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #busy = new Set<ChaosClient>();
  #latency: ProxyMode = NO_LATENCY;
  #blackholed = false;
  #serverChain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: {
    clients: readonly ChaosClient[];
    server: ServerProcess;
    plan: FaultPlan;
    random: SeededRandom;
    progress: () => number;
  }) {
    this.#clients = options.clients;
    this.#server = options.server;
    this.#plan = options.plan;
    this.#random = options.random;
    this.#progress = options.progress;
    this.#schedule = drawSchedule(options.plan, options.random.fork('schedule'));
  }

  /** Faults injected so far. */
  get total(): number {
    return Object.values(this.counts).reduce((sum, count) => sum + count, 0);
  }

  start(): void {
    const cuts = this.#random.fork('cuts');
    this.#every(
      () => cuts.exponential(this.#plan.cutMeanMs),
      () => this.#cutAll(),
    );
    const latency = this.#random.fork('latency');
    this.#every(
      () => latency.exponential(this.#plan.latencyChangeMeanMs),
      () => {
        const ms = latency.between(0, this.#plan.latencyMaxMs);
        this.#latency = { kind: 'delay', ms, jitterMs: latency.between(0, ms) };
        this.counts.latency += 1;
        if (!this.#blackholed) this.#setMode(this.#latency);
      },
    );
    const events = this.#random.fork('events');
    const watch = setInterval(() => {
      while (this.#schedule[0] && this.#schedule[0].at <= this.#progress()) {
        const fault = this.#schedule.shift();
        if (fault) this.#track(this.#fire(fault.kind, events));
      }
    }, PROGRESS_POLL_MS);
    this.#timers.add(watch);
  }

  /**
   * Stops injecting, waits for faults under way (a restart, a client coming back), then
   * heals: no latency, every device online, and one last cut so that no link silenced by
   * a blackhole is left for a heartbeat to find.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    await this.#serverChain;
    if (!this.#server.running) await this.#server.start();
    this.#blackholed = false;
    this.#setMode(NO_LATENCY);
    this.#cutAll();
    for (const client of this.#clients) client.connectivity.set(true);
  }

  /** Faults scheduled by progress that had not fired when the workload ended. */
  get unfired(): number {
    return this.#schedule.length;
  }

  #every(nextDelayMs: () => number, act: () => void): void {
    const schedule = () => {
      if (this.#stopped) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#stopped) return;
        act();
        schedule();
      }, nextDelayMs());
      this.#timers.add(timer);
    };
    schedule();
  }

  #cutAll(): void {
    this.counts.cut += 1;
    for (const client of this.#clients) client.proxy.cutAll();
  }

  #setMode(mode: ProxyMode): void {
    for (const client of this.#clients) client.proxy.setMode(mode);
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #fire(kind: ScheduledFault['kind'], random: SeededRandom): Promise<void> {
    const plan = this.#plan;
    switch (kind) {
      case 'blackhole':
        return this.#blackhole(random.between(...plan.blackholeMs));
      case 'server-kill': {
        const downtimeMs = random.between(...plan.serverDowntimeMs);
        this.#serverChain = this.#serverChain.then(async () => {
          this.counts['server-kill'] += 1;
          await this.#server.kill();
          await sleep(downtimeMs);
          await this.#server.start();
        });
        return this.#serverChain;
      }
      case 'client-reload':
        return this.#onClient(kind, random, (client) => client.reload());
      case 'client-kill': {
        const downtimeMs = random.between(...plan.killDowntimeMs);
        return this.#onClient(kind, random, (client) => client.kill(downtimeMs));
      }
      case 'client-offline': {
        const durationMs = random.between(...plan.offlineMs);
        return this.#onClient(kind, random, (client) => client.goOffline(durationMs));
      }
    }
  }

  async #blackhole(durationMs: number): Promise<void> {
    this.counts.blackhole += 1;
    this.#blackholed = true;
    for (const client of this.#clients) client.proxy.blackholeExisting();
    this.#setMode({ kind: 'blackhole' });
    await sleep(durationMs);
    // Links opened during the blackhole lost bytes mid-stream: they must never carry data
    // again (TCP would not skip bytes), so they are silenced for good, like the older ones.
    for (const client of this.#clients) client.proxy.blackholeExisting();
    this.#blackholed = false;
    this.#setMode(this.#latency);
  }

  /**
   * Runs a client fault on an idle client: preferably one mid-flush (connected with messages
   * in its outbox), else one with a backlog, else any.
   */
  async #onClient(
    kind: FaultKind,
    random: SeededRandom,
    act: (client: ChaosClient) => Promise<void>,
  ): Promise<void> {
    const idle = this.#clients.filter((client) => client.engine && !this.#busy.has(client));
    const backlog = idle.filter((client) => (client.engine?.outboxCount ?? 0) > 0);
    const flushing = backlog.filter((client) => client.engine?.connection.status === 'connected');
    const pool = [flushing, backlog, idle].find((clients) => clients.length > 0);
    if (!pool) return;
    const target = random.pick(pool);
    if (flushing.includes(target)) this.midFlushHits += 1;
    this.counts[kind] += 1;
    this.#busy.add(target);
    try {
      await act(target);
    } finally {
      this.#busy.delete(target);
    }
  }
}

/** Progress points for the heavy faults; server kills spread over the run, one per stretch. */
function drawSchedule(plan: FaultPlan, random: SeededRandom): ScheduledFault[] {
  const schedule: ScheduledFault[] = [];
  const spread = (count: number, kind: ScheduledFault['kind']) => {
    for (let i = 0; i < count; i++) {
      schedule.push({ kind, at: 0.05 + (0.9 * (i + random.between(0.2, 0.8))) / count });
    }
  };
  spread(plan.serverKills, 'server-kill');
  spread(plan.blackholes, 'blackhole');
  spread(plan.reloads, 'client-reload');
  spread(plan.kills, 'client-kill');
  spread(plan.offlines, 'client-offline');
  return schedule.sort((a, b) => a.at - b.at);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
