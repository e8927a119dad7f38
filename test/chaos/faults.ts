import type { ProxyMode } from '../support/fault-proxy.ts';
import type { ServerProcess } from '../support/server-process.ts';
import type { ChaosDevice } from './chaos-client.ts';
import type { SlowLink } from './checker.ts';
import type { SeededRandom } from './random.ts';
import { type BodySpec, hostileBodies, labelled, largeBody } from './workload.ts';

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
  /** Graceful reloads of a tab, preferring a device with messages still to flush. */
  reloads: number;
  /** Kills of a tab without cleanup, preferring a device with messages still to flush. */
  kills: number;
  killDowntimeMs: Range;
  /** A device's platform reports offline for a while; its user keeps typing. */
  offlines: number;
  offlineMs: Range;
  /**
   * A device's link dies and its timers stop (a phone locked right after sending), for
   * `freezeRealMs` of this process's time, standing for `freezeSleepMs` asleep: more than
   * socket.io's ping deadline (25 s + 10 s), so the device wakes past it. See `#freeze`.
   */
  freezes: number;
  freezeRealMs: Range;
  freezeSleepMs: Range;
  /**
   * A device moves onto a slow but steady uplink (`slowUpBytesPerSecond`) for `slowMs`, and
   * its person pastes `slowBurst` long texts of `slowBodyChars` characters right away.
   */
  slows: number;
  slowMs: Range;
  slowUpBytesPerSecond: number;
  slowBurst: Range;
  slowBodyChars: Range;
  /** A device's person types hostile input (see `hostileBodies`). */
  hostiles: number;
  /**
   * A device, preferably a shared profile, gets a steady link (no cuts) for `burstMs` and its
   * person types `burstSize` messages at once: more than the server's burst, so the rate
   * limit holds messages while the tabs race for one budget on links that stay up.
   */
  bursts: number;
  burstMs: Range;
  burstSize: Range;
}

export type FaultKind =
  | 'cut'
  | 'latency'
  | 'blackhole'
  | 'server-kill'
  | 'client-reload'
  | 'client-kill'
  | 'client-offline'
  | 'freeze'
  | 'slow'
  | 'hostile'
  | 'burst';

type ScheduledKind = Exclude<FaultKind, 'cut' | 'latency'>;

/**
 * A fault the nemesis schedules like its own heavy faults but that something else injects
 * (the cluster's node, Redis and PostgreSQL faults). External faults run one at a time, on
 * the chain server kills use, and never during a steady stretch.
 */
export interface ExternalFault {
  /** Its name in the counts, e.g. `node-kill`. */
  kind: string;
  /** How many times it fires in a run, spread over the workload. */
  count: number;
  /**
   * Injects one and heals it; resolves once healed, answering whether it happened (it may
   * find nothing to hit, e.g. no broadcast within its wait).
   */
  inject(random: SeededRandom): Promise<boolean>;
}

interface ScheduledFault {
  /** Share of the workload's attempts after which it fires. */
  at: number;
  kind: ScheduledKind | ExternalFault;
}

/** Types for a device on a fault's behalf (the workload records every attempt). */
export interface Typist {
  typeNow(
    device: ChaosDevice,
    bodies: readonly BodySpec[],
    options?: { evenAsleep?: boolean },
  ): Promise<void>;
}

const PROGRESS_POLL_MS = 50;
const NO_LATENCY: ProxyMode = { kind: 'pass' };
/** Time for a typed message to reach the socket (an IndexedDB write, then a read). */
const EMIT_SETTLE_MS = 100;
/** How long a device about to sleep gets to have every tab connected. */
const CONNECTED_WITHIN_MS = 5_000;

/**
 * The nemesis. Cuts and latency changes run on the clock (Poisson processes); the heavier
 * faults fire at progress points of the workload drawn up front, so a seed gives the same
 * schedule on a fast machine and a slow one. Which device a device fault hits is decided
 * when it fires (preferably one with the most left to flush), so that part depends on timing.
 *
 * A device that sleeps or sits on a slow link is `exempt` from network-wide cuts and
 * blackholes meanwhile: the first must hear nothing, and the second is a steady link on
 * which nothing but the client itself may drop a connection.
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
    freeze: 0,
    slow: 0,
    hostile: 0,
    burst: 0,
  };
  /** How often each external fault happened (see `ExternalFault`). */
  readonly externalCounts: Record<string, number> = {};
  /** External faults that threw instead of healing: each one fails the run. */
  readonly externalErrors: string[] = [];
  /** Device faults that hit a device while it was flushing. */
  midFlushHits = 0;
  /** Each slow stretch, with the connections the device opened during it. */
  readonly slowLinks: SlowLink[] = [];
  readonly #devices: readonly ChaosDevice[];
  readonly #server: ServerProcess | null;
  readonly #plan: FaultPlan;
  readonly #random: SeededRandom;
  readonly #progress: () => number;
  readonly #typist: Typist;
  readonly #schedule: ScheduledFault[];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #busy = new Set<ChaosDevice>();
  readonly #externalRandom = new Map<string, SeededRandom>();
  /** Steady stretches under way (slow, burst): a server kill waits for them. */
  readonly #steady = new Set<Promise<void>>();
  #latency: ProxyMode = NO_LATENCY;
  #blackholed = false;
  #serverChain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: {
    devices: readonly ChaosDevice[];
    /** The server the plan's `serverKills` kill; null when there is none (a cluster). */
    server: ServerProcess | null;
    plan: FaultPlan;
    random: SeededRandom;
    progress: () => number;
    typist: Typist;
    external?: readonly ExternalFault[];
  }) {
    this.#devices = options.devices;
    this.#server = options.server;
    this.#plan = options.plan;
    this.#random = options.random;
    this.#progress = options.progress;
    this.#typist = options.typist;
    const external = options.external ?? [];
    for (const fault of external) {
      this.externalCounts[fault.kind] = 0;
      this.#externalRandom.set(fault.kind, options.random.fork(`external ${fault.kind}`));
    }
    this.#schedule = drawSchedule(options.plan, external, options.random.fork('schedule'));
  }

  /** Faults injected so far, external ones included. */
  get total(): number {
    const counts = [...Object.values(this.counts), ...Object.values(this.externalCounts)];
    return counts.reduce((sum, count) => sum + count, 0);
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
        this.#setModes();
      },
    );
    const events = this.#random.fork('events');
    const watch = setInterval(() => {
      while (this.#schedule[0] && this.#schedule[0].at <= this.#progress()) {
        const fault = this.#schedule.shift();
        if (!fault) continue;
        const { kind } = fault;
        this.#track(typeof kind === 'string' ? this.#fire(kind, events) : this.#external(kind));
      }
    }, PROGRESS_POLL_MS);
    this.#timers.add(watch);
  }

  /**
   * Stops injecting, waits for faults under way (a restart, a device coming back, a device
   * waking), then heals: no latency, no cap, every device online, and one last cut so that
   * no link silenced by a blackhole is left for a heartbeat to find.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    await this.#serverChain;
    if (this.#server && !this.#server.running) await this.#server.start();
    this.#blackholed = false;
    this.#latency = NO_LATENCY;
    for (const device of this.#devices) {
      device.exempt = false;
      for (const proxy of device.proxies) proxy.setBandwidth({});
    }
    this.#setModes();
    this.#cutAll();
    for (const device of this.#devices) device.setOnline(true);
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
    for (const device of this.#devices) {
      if (device.exempt) continue;
      for (const proxy of device.proxies) proxy.cutAll();
    }
  }

  /** The network's mode for one device: an exempt one keeps its latency through a blackhole. */
  #setMode(device: ChaosDevice): void {
    const mode: ProxyMode =
      this.#blackholed && !device.exempt ? { kind: 'blackhole' } : this.#latency;
    for (const proxy of device.proxies) proxy.setMode(mode);
  }

  #setModes(): void {
    for (const device of this.#devices) this.#setMode(device);
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #fire(kind: ScheduledKind, random: SeededRandom): Promise<void> {
    const plan = this.#plan;
    switch (kind) {
      case 'blackhole':
        return this.#blackhole(random.between(...plan.blackholeMs));
      case 'server-kill': {
        const downtimeMs = random.between(...plan.serverDowntimeMs);
        const server = this.#server;
        if (!server) return;
        this.#serverChain = this.#serverChain.then(async () => {
          while (this.#steady.size > 0) await Promise.all(this.#steady);
          this.counts['server-kill'] += 1;
          await server.kill();
          await sleep(downtimeMs);
          await server.start();
        });
        return this.#serverChain;
      }
      case 'client-reload':
        return this.#onDevice(kind, random, (device) => device.reload(random.pick(device.tabs)));
      case 'client-kill': {
        const downtimeMs = random.between(...plan.killDowntimeMs);
        return this.#onDevice(kind, random, (device) =>
          device.kill(random.pick(device.tabs), downtimeMs),
        );
      }
      case 'client-offline': {
        const durationMs = random.between(...plan.offlineMs);
        return this.#onDevice(kind, random, (device) => device.goOffline(durationMs));
      }
      case 'freeze': {
        const realMs = random.between(...plan.freezeRealMs);
        const sleepMs = random.between(...plan.freezeSleepMs);
        return this.#onDevice(kind, random, (device) => this.#freeze(device, realMs, sleepMs));
      }
      case 'slow': {
        const durationMs = random.between(...plan.slowMs);
        const bodies = Array.from({ length: random.int(...plan.slowBurst) }, () =>
          largeBody(random.int(...plan.slowBodyChars)),
        );
        return this.#onDevice(kind, random, (device) => this.#slow(device, durationMs, bodies));
      }
      case 'hostile':
        return this.#onDevice(kind, random, (device) =>
          this.#typist.typeNow(device, hostileBodies()),
        );
      case 'burst': {
        const durationMs = random.between(...plan.burstMs);
        const bodies = Array.from({ length: random.int(...plan.burstSize) }, () =>
          labelled('in a burst'),
        );
        return this.#onDevice(
          kind,
          random,
          (device) =>
            this.#steadily(device, async () => {
              const typing = this.#typist.typeNow(device, bodies);
              await sleep(durationMs);
              await typing;
            }),
          { preferShared: true },
        );
      }
    }
  }

  /**
   * Queues an external fault on the server chain, after any steady stretch under way. Each
   * kind draws from its own stream, so one kind finding nothing to hit leaves the others'
   * draws alone. A fault that throws is recorded, not rethrown: the chain goes on.
   */
  #external(fault: ExternalFault): Promise<void> {
    const random = this.#externalRandom.get(fault.kind) ?? this.#random.fork(fault.kind);
    this.#serverChain = this.#serverChain.then(async () => {
      while (this.#steady.size > 0) await Promise.all(this.#steady);
      try {
        const happened = await fault.inject(random);
        if (happened) this.externalCounts[fault.kind] = (this.externalCounts[fault.kind] ?? 0) + 1;
      } catch (error) {
        this.externalErrors.push(
          `${fault.kind}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
    return this.#serverChain;
  }

  async #blackhole(durationMs: number): Promise<void> {
    this.counts.blackhole += 1;
    this.#blackholed = true;
    for (const proxy of this.#reachableProxies()) proxy.blackholeExisting();
    this.#setModes();
    await sleep(durationMs);
    // Links opened during the blackhole lost bytes mid-stream: they must never carry data
    // again (TCP would not skip bytes), so they are silenced for good, like the older ones.
    for (const proxy of this.#reachableProxies()) proxy.blackholeExisting();
    this.#blackholed = false;
    this.#setModes();
  }

  #reachableProxies() {
    return this.#devices.filter((device) => !device.exempt).flatMap((device) => device.proxies);
  }

  /**
   * A phone locked right after sending, asleep past socket.io's ping deadline, unlocked
   * and typed into at once:
   * 0. it is connected (spared the cuts for a moment, it gets a link up);
   * 1. its link dies (the proxies pass nothing more, and no cut or close reaches it);
   * 2. the person sends one more message, which goes out on the dead link, unanswered;
   * 3. the device's timers stop and its person stops typing, for `realMs`;
   * 4. on waking its wall clock has moved on by `sleepMs`, past the deadline engine.io set
   *    from the last ping, though engine.io's own timer for it has not fired yet: exactly
   *    what a page sees after its timers were frozen;
   * 5. new connections pass again, and the person types at once, before the held timers
   *    run (a phone's first keystroke beats nothing in particular, but it can beat them);
   * 6. the held timers run, and the person goes on typing.
   */
  async #freeze(device: ChaosDevice, realMs: number, sleepMs: number): Promise<void> {
    // A phone that goes to sleep connected: spared the cuts, it gets a link up first.
    device.exempt = true;
    await waitUntil(CONNECTED_WITHIN_MS, () =>
      device.engines.every((engine) => engine.connection.status === 'connected'),
    );
    for (const proxy of device.proxies) proxy.sever();
    await this.#typist.typeNow(device, [labelled('before sleeping')]);
    await sleep(EMIT_SETTLE_MS);
    device.sleep();
    device.clock.freeze();
    await sleep(realMs);
    device.clock.skip(sleepMs - realMs);
    for (const proxy of device.proxies) proxy.restore();
    await this.#typist.typeNow(device, [labelled('on waking')], { evenAsleep: true });
    await sleep(EMIT_SETTLE_MS);
    device.clock.thaw();
    device.wake();
    // Only now in reach of cuts again: one between waking and the held timers would be news
    // the device heard while still frozen.
    device.exempt = false;
    this.#setMode(device);
  }

  /**
   * A steady but slow uplink for `durationMs`: the device's links are cut once, so that it
   * starts over on the slow network with one fresh connection per tab, and its person
   * pastes `bodies` at once. Then no cut, blackhole or server kill touches it until the
   * stretch ends: any further connection is one the client chose to make (it took a slow
   * link for a dead one), which the checker counts as `flapped`.
   */
  async #slow(device: ChaosDevice, durationMs: number, bodies: readonly BodySpec[]): Promise<void> {
    await this.#steadily(device, async () => {
      for (const proxy of device.proxies) {
        proxy.setBandwidth({ upBytesPerSecond: this.#plan.slowUpBytesPerSecond });
      }
      try {
        const before = sumAccepted(device);
        for (const proxy of device.proxies) proxy.cutAll();
        const drops = watchDrops(device);
        const pasting = this.#typist.typeNow(device, bodies);
        await sleep(durationMs);
        this.slowLinks.push({
          device: device.name,
          tabs: device.tabs.length,
          connections: sumAccepted(device) - before,
          drops: drops.stop(),
        });
        await pasting;
      } finally {
        for (const proxy of device.proxies) proxy.setBandwidth({});
      }
    });
  }

  /**
   * Runs `stretch` with the device on a steady link: no network-wide cut or blackhole
   * reaches it, and no server kill happens meanwhile (a kill waits; the stretch waits for
   * one under way).
   */
  async #steadily(device: ChaosDevice, stretch: () => Promise<void>): Promise<void> {
    await this.#serverChain;
    let done: () => void = () => {};
    const steady = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#steady.add(steady);
    try {
      device.exempt = true;
      this.#setMode(device);
      await stretch();
    } finally {
      device.exempt = false;
      this.#setMode(device);
      this.#steady.delete(steady);
      done();
    }
  }

  /**
   * Runs a device fault on an idle device (a shared profile if `preferShared` and one is
   * idle): preferably one mid-flush (connected with messages in its outbox), else one with a
   * backlog, else any.
   */
  async #onDevice(
    kind: FaultKind,
    random: SeededRandom,
    act: (device: ChaosDevice) => Promise<void>,
    options: { preferShared?: boolean } = {},
  ): Promise<void> {
    const free = this.#devices.filter((device) => device.engine && !this.#busy.has(device));
    const shared = free.filter((device) => device.tabs.length > 1);
    const idle = options.preferShared && shared.length > 0 ? shared : free;
    const backlog = idle.filter((device) => (device.engine?.outboxCount ?? 0) > 0);
    const flushing = backlog.filter((device) => device.engine?.connection.status === 'connected');
    const pool = [flushing, backlog, idle].find((devices) => devices.length > 0);
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

/**
 * Records how each connected link of the device ends, as its engines report it: a reason
 * from socket.io (`transport close`, `ping timeout`…), or the client dropping the link itself
 * (straight back to `connecting`).
 */
function watchDrops(device: ChaosDevice): { stop: () => string[] } {
  const drops: string[] = [];
  const unsubscribes = device.tabs.map((tab) => {
    const engine = tab.engine;
    if (!engine) return () => {};
    let last = engine.connection.status;
    // Only links made during the stretch count: the one the stretch's own cut ends does not.
    let madeHere = false;
    return engine.subscribe(() => {
      const state = engine.connection;
      if (state.status === 'connected' && last !== 'connected') madeHere = true;
      if (last === 'connected' && state.status !== 'connected' && madeHere) {
        const why =
          state.status === 'disconnected'
            ? state.reason
            : `dropped by the client (${state.status})`;
        drops.push(`${tab.label}: ${why}`);
      }
      last = state.status;
    });
  });
  return {
    stop: () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
      return drops;
    },
  };
}

function sumAccepted(device: ChaosDevice): number {
  return device.proxies.reduce((total, proxy) => total + proxy.accepted, 0);
}

/**
 * Progress points for the heavy faults and the external ones: each kind spread over the
 * run, one per stretch.
 */
function drawSchedule(
  plan: FaultPlan,
  external: readonly ExternalFault[],
  random: SeededRandom,
): ScheduledFault[] {
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
  spread(plan.freezes, 'freeze');
  spread(plan.slows, 'slow');
  spread(plan.hostiles, 'hostile');
  spread(plan.bursts, 'burst');
  for (const fault of external) spread(fault.count, fault);
  return schedule.sort((a, b) => a.at - b.at);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` for up to `timeoutMs`; answers whether it came true. */
async function waitUntil(timeoutMs: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(PROGRESS_POLL_MS);
  }
  return true;
}
