import { ManualConnectivity } from '../../src/client/connectivity.ts';
import { Engine } from '../../src/client/engine.ts';
import { FAST_BACKOFF } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';

/** How long the simulated person takes to press "retry now" after the app shows "failed". */
const RETRY_PRESS_DELAY_MS = 300;

export interface ChaosClientOptions {
  name: string;
  room: string;
  dbName: string;
  serverPort: number;
  /** This device's own loopback address (127.x.y.z), so the server tells devices apart. */
  address: string;
  /** Seeded randomness for this client's proxy jitter and backoff jitter. */
  random: () => number;
}

/**
 * One simulated device: a sync engine in Node over fake-indexeddb, reaching the server
 * only through its own fault proxy (so faults can hit one device or all of them). The
 * engine is replaced on a reload or a kill; the database, the proxy and the platform's
 * online flag belong to the device and outlive it.
 */
export class ChaosClient {
  readonly name: string;
  readonly room: string;
  readonly proxy: FaultProxy;
  readonly connectivity = new ManualConnectivity(true);
  readonly #options: ChaosClientOptions;
  #engine: Engine | null = null;
  #engineUp: Promise<Engine>;
  #resolveUp: (engine: Engine) => void = () => {};
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #unsubscribe: () => void = () => {};

  private constructor(options: ChaosClientOptions, proxy: FaultProxy) {
    this.#options = options;
    this.name = options.name;
    this.room = options.room;
    this.proxy = proxy;
    this.#engineUp = this.#nextLife();
  }

  static async start(options: ChaosClientOptions): Promise<ChaosClient> {
    const proxy = await FaultProxy.start(
      { port: options.serverPort, localAddress: options.address },
      { random: options.random },
    );
    const client = new ChaosClient(options, proxy);
    await client.#boot();
    return client;
  }

  /** The running engine; null while the device is down between a kill or reload and its restart. */
  get engine(): Engine | null {
    return this.#engine;
  }

  /**
   * Types a message, waiting first for the app to be up (nobody types into a closed tab).
   * Resolves with the message id once `send()` resolved; rejects if the engine went away.
   */
  async send(body: string): Promise<string> {
    const engine = await this.#engineUp;
    const pending = await engine.send(this.room, body);
    return pending.id;
  }

  /** A page reload: the engine is destroyed the normal way and a new one starts over the database. */
  async reload(): Promise<void> {
    const engine = this.#takeDown();
    if (!engine) return;
    await engine.destroy();
    await this.#boot();
  }

  /**
   * A killed tab: its connections are reset at the proxy first (what the kernel does to a dead
   * process's sockets), so in-flight acks and broadcasts are lost mid-stream. The engine is
   * then stopped without flushing or sending anything more; IndexedDB keeps exactly the
   * transactions that committed. After `downtimeMs` the tab is opened again.
   */
  async kill(downtimeMs: number): Promise<void> {
    const engine = this.#takeDown();
    if (!engine) return;
    this.proxy.cutAll();
    // destroy() here only releases timers and the database handle: the socket is already
    // dead and the flusher stops before anything else is sent.
    await engine.destroy();
    await new Promise((resolve) => setTimeout(resolve, downtimeMs));
    await this.#boot();
  }

  /** The device leaves the network (the platform reports offline) for `durationMs`. */
  async goOffline(durationMs: number): Promise<void> {
    this.connectivity.set(false);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    this.connectivity.set(true);
  }

  /** Destroys the engine and reopens the device offline: its view is what IndexedDB holds. */
  async reopenOffline(): Promise<Engine> {
    this.connectivity.set(false);
    const engine = this.#takeDown();
    if (engine) await engine.destroy();
    return this.#boot();
  }

  async dispose(): Promise<void> {
    const engine = this.#takeDown();
    if (engine) await engine.destroy();
    await this.proxy.stop();
    await new Promise<void>((resolve) => {
      const request = indexedDB.deleteDatabase(this.#options.dbName);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
  }

  #takeDown(): Engine | null {
    const engine = this.#engine;
    if (!engine) return null;
    this.#engine = null;
    this.#engineUp = this.#nextLife();
    this.#unsubscribe();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    return engine;
  }

  #nextLife(): Promise<Engine> {
    return new Promise((resolve) => {
      this.#resolveUp = resolve;
    });
  }

  async #boot(): Promise<Engine> {
    const engine = await Engine.create({
      url: this.proxy.url,
      dbName: this.#options.dbName,
      connectivity: this.connectivity,
      backoff: FAST_BACKOFF,
      random: this.#options.random,
    });
    if (!engine.identity) await engine.setIdentity(this.name);
    await engine.openRoom(this.room);
    this.#engine = engine;
    this.#unsubscribe = engine.subscribe(() => this.#pressRetryIfFailed(engine));
    this.#resolveUp(engine);
    return engine;
  }

  /** The person sees "failed" (attempts exhausted while the server was down) and presses retry. */
  #pressRetryIfFailed(engine: Engine): void {
    if (engine.connection.status !== 'failed' || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#engine === engine && engine.connection.status === 'failed') engine.reconnectNow();
    }, RETRY_PRESS_DELAY_MS);
  }
}
