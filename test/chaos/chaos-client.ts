import { ManualConnectivity } from '../../src/client/connectivity.ts';
import { Engine } from '../../src/client/engine.ts';
import { MemoryLocks } from '../../src/client/memory-locks.ts';
import { shown } from '../../src/client/message-state.ts';
import { FAST_BACKOFF } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import type { OpAttempt } from './checker.ts';
import { DeviceClock } from './device-clock.ts';
import type { SeededRandom } from './random.ts';

/** How long the simulated person takes to press "retry now" after the app shows "failed". */
const RETRY_PRESS_DELAY_MS = 300;

/** What `engine.diagnostics` reports: `send` batches emitted, and those answered `rate_limited`. */
export interface SendDiagnostics {
  batchesSent: number;
  batchesRefused: number;
}

export interface ChaosDeviceOptions {
  name: string;
  room: string;
  dbName: string;
  serverPort: number;
  /** This device's own loopback address (127.x.y.z), so the server tells devices apart. */
  address: string;
  /** Tabs open on this profile: 1 for a plain device, 2–3 for a shared profile. */
  tabs: number;
  /**
   * The name is picked offline, with every tab already open, so that all tabs sign up at
   * the same moment when the device comes online.
   */
  offlineSignUp: boolean;
  /** Seeded randomness for proxy jitter, backoff jitter and which tab the person types in. */
  random: SeededRandom;
}

/**
 * One tab: a sync engine in Node over the profile's fake-indexeddb database, reaching the
 * server through its own fault proxy, so a killed tab loses only its own connections. The
 * engine is replaced on a reload or a kill; the proxy belongs to the tab and outlives it.
 */
class ChaosTab {
  readonly label: string;
  readonly proxy: FaultProxy;
  readonly random: () => number;
  engine: Engine | null = null;
  up: Promise<Engine>;
  resolveUp: (engine: Engine) => void = () => {};
  retryTimer: ReturnType<typeof setTimeout> | null = null;
  unsubscribe: () => void = () => {};

  constructor(label: string, proxy: FaultProxy, random: () => number) {
    this.label = label;
    this.proxy = proxy;
    this.random = random;
    this.up = this.nextLife();
  }

  nextLife(): Promise<Engine> {
    return new Promise((resolve) => {
      this.resolveUp = resolve;
    });
  }
}

/**
 * One simulated device (a browser profile): one IndexedDB database, one user, one platform
 * online flag and one wall clock, with one or more tabs open on it. Everything a device's
 * engines do runs inside its `DeviceClock`, so the device can be frozen alone.
 */
export class ChaosDevice {
  readonly name: string;
  readonly room: string;
  readonly clock: DeviceClock;
  readonly connectivity = new ManualConnectivity(true);
  /**
   * The profile's Web Locks, shared by its tabs as `navigator.locks` is: one tab sends, the
   * others hear of its work over the profile's BroadcastChannel and take over when it goes.
   */
  readonly locks = new MemoryLocks();
  readonly tabs: readonly ChaosTab[];
  /** Set by the nemesis while the device is asleep or on a slow link: network-wide faults skip it. */
  exempt = false;
  readonly #options: ChaosDeviceOptions;
  readonly #pickTab: SeededRandom;
  readonly #pickChangeTab: SeededRandom;
  /** One message at a time, as a person types: the order of this chain is the send order. */
  #typing: Promise<unknown> = Promise.resolve();
  #awake: Promise<void> = Promise.resolve();
  #wake: () => void = () => {};
  /** Diagnostics of engines already torn down (reloads, kills). */
  #retired: SendDiagnostics = { batchesSent: 0, batchesRefused: 0 };
  #diagnosticsMissing = false;

  private constructor(options: ChaosDeviceOptions, proxies: readonly FaultProxy[]) {
    this.#options = options;
    this.name = options.name;
    this.room = options.room;
    this.clock = new DeviceClock(options.name);
    this.#pickTab = options.random.fork('tabs');
    this.#pickChangeTab = options.random.fork('change tabs');
    this.tabs = proxies.map(
      (proxy, i) =>
        new ChaosTab(
          options.tabs > 1 ? `${options.name}/t${i + 1}` : options.name,
          proxy,
          options.random.fork(`tab ${i}`).source,
        ),
    );
  }

  static async start(options: ChaosDeviceOptions): Promise<ChaosDevice> {
    // The proxies are the network, not the device: they are made outside its clock, so
    // freezing the device never freezes them.
    const proxies: FaultProxy[] = [];
    for (let i = 0; i < options.tabs; i++) {
      proxies.push(
        await FaultProxy.start(
          { port: options.serverPort, localAddress: options.address },
          { random: options.random.fork(`proxy ${i}`).source },
        ),
      );
    }
    const device = new ChaosDevice(options, proxies);
    await device.clock.run(() => device.#open());
    return device;
  }

  get proxies(): FaultProxy[] {
    return this.tabs.map((tab) => tab.proxy);
  }

  /** A running engine of this device (the first tab that is up), or null while all are down. */
  get engine(): Engine | null {
    return this.tabs.find((tab) => tab.engine)?.engine ?? null;
  }

  /** Engines of the tabs that are up. */
  get engines(): Engine[] {
    return this.tabs.flatMap((tab) => (tab.engine ? [tab.engine] : []));
  }

  get dbName(): string {
    return this.#options.dbName;
  }

  /**
   * Runs `typeOne` after everything typed before it (a person types one message at a time).
   * Unless `evenAsleep`, it first waits for the device to be awake: nobody types on a phone
   * that sleeps.
   */
  async type<T>(typeOne: () => Promise<T>, options: { evenAsleep?: boolean } = {}): Promise<T> {
    if (!options.evenAsleep) await this.#awake;
    const turn = this.#typing.then(typeOne);
    this.#typing = turn.catch(() => {});
    return turn;
  }

  /**
   * Sends a message from one of the tabs (picked at random), waiting first for that tab to
   * be up (nobody types into a closed tab). Resolves with the message id once `send()`
   * resolved; rejects if the engine went away mid-call. Call it through `type`.
   */
  async send(body: string): Promise<string> {
    const tab = this.#pickTab.pick(this.tabs);
    const engine = await tab.up;
    const pending = await this.clock.run(() => engine.send(this.room, body));
    return pending.id;
  }

  /**
   * Edits (`body`) or deletes one of this device's messages in a tab that shows it (a person
   * changes a message they see; in a shared profile a tab hears of another's message a
   * moment later), waiting for that tab to be up. `seen` is told how that tab showed the
   * message just before. Rejects if the engine refused or went away mid-call. Call it
   * through `type`.
   */
  async change(
    target: string,
    kind: OpAttempt['kind'],
    body: string,
    seen: (status: OpAttempt['targetStatus']) => void,
  ): Promise<void> {
    const showing = this.tabs.filter((tab) =>
      tab.engine?.room(this.room).messages.some((m) => m.id === target && !shown(m).deleted),
    );
    const tab = this.#pickChangeTab.pick(showing.length > 0 ? showing : this.tabs);
    const engine = await tab.up;
    seen(engine.room(this.room).messages.find((m) => m.id === target)?.status ?? 'absent');
    await this.clock.run(() =>
      kind === 'edit'
        ? engine.edit(this.room, target, body)
        : engine.deleteMessage(this.room, target),
    );
  }

  /** The person stops typing until `wake` (the phone is asleep). */
  sleep(): void {
    this.#awake = new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  wake(): void {
    this.#wake();
  }

  /** A page reload of one tab: its engine is destroyed the normal way and a new one starts. */
  async reload(tab: ChaosTab): Promise<void> {
    const engine = this.#takeDown(tab);
    if (!engine) return;
    await this.clock.run(async () => {
      await engine.destroy();
      this.#retire(engine);
      await this.#boot(tab);
    });
  }

  /**
   * A killed tab: its connections are reset at its proxy first (what the kernel does to a
   * dead process's sockets), so in-flight acks and broadcasts are lost mid-stream. The engine
   * is then stopped without flushing or sending anything more; IndexedDB keeps exactly the
   * transactions that committed. After `downtimeMs` the tab is opened again.
   */
  async kill(tab: ChaosTab, downtimeMs: number): Promise<void> {
    const engine = this.#takeDown(tab);
    if (!engine) return;
    tab.proxy.cutAll();
    await this.clock.run(async () => {
      // destroy() here only releases timers and the database handle: the socket is already
      // dead and the flusher stops before anything else is sent.
      await engine.destroy();
      this.#retire(engine);
      await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      await this.#boot(tab);
    });
  }

  /** The device leaves the network (the platform reports offline) for `durationMs`. */
  async goOffline(durationMs: number): Promise<void> {
    this.setOnline(false);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    this.setOnline(true);
  }

  /** The platform's online flag; the engines react inside the device's clock. */
  setOnline(online: boolean): void {
    this.clock.run(() => this.connectivity.set(online));
  }

  /**
   * `send` batches emitted and refused (`rate_limited`) by every engine this device ran so
   * far; null when the engine does not report them (see `SendDiagnostics`).
   */
  diagnostics(): SendDiagnostics | null {
    const total = { ...this.#retired };
    for (const engine of this.engines) {
      const own = diagnosticsOf(engine);
      if (!own) return null;
      total.batchesSent += own.batchesSent;
      total.batchesRefused += own.batchesRefused;
    }
    return this.#diagnosticsMissing ? null : total;
  }

  /**
   * Closes every tab and reopens the first one offline: its view is what IndexedDB holds.
   * Returns the engine of that reopened tab.
   */
  async reopenOffline(): Promise<Engine> {
    this.setOnline(false);
    return this.clock.run(async () => {
      for (const tab of this.tabs) {
        const engine = this.#takeDown(tab);
        if (engine) await engine.destroy();
      }
      const [first] = this.tabs;
      if (!first) throw new Error(`${this.name} has no tab`);
      return this.#boot(first);
    });
  }

  async dispose(): Promise<void> {
    await this.clock.run(async () => {
      for (const tab of this.tabs) {
        const engine = this.#takeDown(tab);
        if (engine) await engine.destroy();
      }
    });
    for (const tab of this.tabs) await tab.proxy.stop();
    await new Promise<void>((resolve) => {
      const request = indexedDB.deleteDatabase(this.#options.dbName);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
  }

  /**
   * Opens every tab. With `offlineSignUp`, the first tab picks the name while the device is
   * offline, the others open on that identity, and only then does the device come online:
   * every tab then asks for the session at once, as tabs restored with the browser would.
   */
  async #open(): Promise<void> {
    if (this.#options.offlineSignUp) this.connectivity.set(false);
    for (const tab of this.tabs) await this.#boot(tab);
    this.connectivity.set(true);
  }

  #takeDown(tab: ChaosTab): Engine | null {
    const engine = tab.engine;
    if (!engine) return null;
    tab.engine = null;
    tab.up = tab.nextLife();
    tab.unsubscribe();
    if (tab.retryTimer) clearTimeout(tab.retryTimer);
    tab.retryTimer = null;
    return engine;
  }

  /** Adds a torn-down engine's counts to the device's. */
  #retire(engine: Engine): void {
    const own = diagnosticsOf(engine);
    if (!own) {
      this.#diagnosticsMissing = true;
      return;
    }
    this.#retired.batchesSent += own.batchesSent;
    this.#retired.batchesRefused += own.batchesRefused;
  }

  async #boot(tab: ChaosTab): Promise<Engine> {
    const engine = await Engine.create({
      url: tab.proxy.url,
      dbName: this.#options.dbName,
      connectivity: this.connectivity,
      locks: this.locks,
      backoff: FAST_BACKOFF,
      random: tab.random,
      // The checker reads whole rooms off each device's view: no window.
      windowMessages: Number.POSITIVE_INFINITY,
    });
    if (!engine.identity) await engine.setIdentity(this.name);
    await engine.openRoom(this.room);
    tab.engine = engine;
    tab.unsubscribe = engine.subscribe(() => this.#pressRetryIfFailed(tab, engine));
    tab.resolveUp(engine);
    return engine;
  }

  /** The person sees "failed" (attempts exhausted while the server was down) and presses retry. */
  #pressRetryIfFailed(tab: ChaosTab, engine: Engine): void {
    if (engine.connection.status !== 'failed' || tab.retryTimer) return;
    tab.retryTimer = setTimeout(() => {
      tab.retryTimer = null;
      if (tab.engine === engine && engine.connection.status === 'failed') engine.reconnectNow();
    }, RETRY_PRESS_DELAY_MS);
  }
}

export type { ChaosTab };

/**
 * `engine.diagnostics`, which the engine is to expose as `{ batchesSent, batchesRefused }`;
 * null while it does not, so the checker can say so instead of counting nothing.
 */
function diagnosticsOf(engine: Engine): SendDiagnostics | null {
  const value = (engine as unknown as { diagnostics?: Partial<SendDiagnostics> }).diagnostics;
  if (typeof value?.batchesSent !== 'number' || typeof value.batchesRefused !== 'number') {
    return null;
  }
  return { batchesSent: value.batchesSent, batchesRefused: value.batchesRefused };
}
