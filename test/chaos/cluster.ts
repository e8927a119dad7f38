import { Redis } from 'ioredis';
import { RedisProcess } from '../support/redis.ts';
import { ServerProcess } from '../support/server-process.ts';
import type { ChaosHistory, MemberView } from './checker.ts';
import { ClusterDatabase } from './cluster-database.ts';
import type { RoomHead } from './convergence.ts';
import type { StoredRoom } from './observations.ts';
import type { SeededRandom } from './random.ts';
import { Relay } from './relay.ts';
import { countAcks, publishesBroadcast, refusalCodes } from './wire-sniff.ts';

/** What test/support/server-process.ts runs for `npm start`. */
const FERRY_MAIN = 'src/server/main.ts';
/** How long a load balancer takes to see that a frozen node stopped answering its checks. */
const HEALTH_CHECK_MS = 1_000;
const LOG_LINES_KEPT = 60;

export interface ClusterOptions {
  nodes: number;
  /** The per-user message budget (shared by every node through Redis). */
  rate: { burst: number; perMinute: number };
  /** Picks the node for each new connection. */
  random: SeededRandom;
  log: (line: string) => void;
}

/** What ended a node the last time, as the cluster expects it: a fault's kill, or a stop. */
type Expected = 'kill' | 'stop' | null;

/**
 * Ferry nodes as `npm start` runs them (src/server/main.ts, one child process each) over a
 * fresh PostgreSQL database, with a Redis of the run's own for the fan-out, and a load
 * balancer in front: every new connection goes to a node picked at random among those
 * serving, so a client moves between nodes as it reconnects.
 *
 * Each node reaches Redis through its own relay, which is how the cluster tells whose
 * broadcast is on the wire (`killAtNextBroadcast`); the balancer sees every ack going back
 * to a device (`acks`, `dropNextAck`). Every exit of a node that no fault and no stop
 * asked for is a crash: recorded in `crashes`, and the node is started again.
 */
export class ChaosCluster {
  /** The nodes, by index (each boot of one takes a free port). */
  nodes: readonly ServerProcess[] = [];
  /** Unexpected exits of nodes, described: each one fails the run. */
  readonly crashes: string[] = [];
  /** `send` acks the balancer relayed towards devices (ok ones). */
  acks = 0;
  /**
   * Refusals the balancer relayed, by error code: whole batches (`ok: false`) and single
   * messages of an ok batch (`rejected`), e.g. `rate_limited`, `internal`.
   */
  readonly refusals = new Map<string, number>();
  readonly #options: ClusterOptions;
  readonly #database: ClusterDatabase;
  readonly #redis: RedisProcess;
  readonly #serving: boolean[];
  readonly #expected: Expected[];
  readonly #log: string[] = [];
  #balancer: Relay | null = null;
  readonly #redisLinks: Relay[] = [];
  #ackTrap: (() => void) | null = null;
  #broadcastTrap: ((node: number) => void) | null = null;

  private constructor(options: ClusterOptions, database: ClusterDatabase, redis: RedisProcess) {
    this.#options = options;
    this.#database = database;
    this.#redis = redis;
    this.#serving = Array.from({ length: options.nodes }, () => false);
    this.#expected = Array.from({ length: options.nodes }, () => null);
  }

  /** Starts everything and resolves once every node answers /healthz. */
  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const database = await ClusterDatabase.create();
    let redis: RedisProcess;
    try {
      redis = await RedisProcess.start();
    } catch (error) {
      await database.drop();
      throw error;
    }
    const cluster = new ChaosCluster(options, database, redis);
    try {
      await cluster.#open();
      return cluster;
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
  }

  /** Where devices connect: the load balancer. */
  get port(): number {
    return this.#balancer?.port ?? 0;
  }

  /** Nodes serving now (up, and not frozen past the balancer's health check). */
  get serving(): number[] {
    return this.#serving.flatMap((serving, i) => (serving ? [i] : []));
  }

  /** Connections the balancer sent to each node since the start. */
  get routed(): readonly number[] {
    return this.nodes.map((_, i) => this.#balancer?.routed.get(i) ?? 0);
  }

  get boots(): number {
    return this.nodes.reduce((sum, node) => sum + node.boots, 0);
  }

  /** The cluster's own notes (crashes) and every node's last lines, for a failure report. */
  get log(): readonly string[] {
    return [
      ...this.#log,
      ...this.nodes.flatMap((node, i) => node.log.map((l) => `[node ${i}] ${l}`)),
    ];
  }

  // ---- faults ---------------------------------------------------------------

  /** SIGKILL of node `index`; started again after `downtimeMs`. Resolves once it serves. */
  async killNode(index: number, downtimeMs: number): Promise<void> {
    this.#kill(index);
    await this.#node(index).kill();
    await sleep(downtimeMs);
    await this.#startNode(index);
  }

  /**
   * SIGSTOP of node `index` for `pauseMs`, then SIGCONT: a process stuck in a long pause.
   * Its connections stay open and silent; the balancer stops sending it new ones once its
   * health check fails, and sends them again once it answers.
   */
  async pauseNode(index: number, pauseMs: number): Promise<void> {
    const node = this.#node(index);
    const pid = node.pid;
    if (pid === undefined) throw new Error(`node ${index} is not running`);
    process.kill(pid, 'SIGSTOP');
    const unhealthy = setTimeout(() => {
      this.#serving[index] = false;
    }, HEALTH_CHECK_MS);
    try {
      await sleep(pauseMs);
    } finally {
      clearTimeout(unhealthy);
      if (node.pid === pid) process.kill(pid, 'SIGCONT');
    }
    this.#serving[index] = node.running;
  }

  /**
   * Kills Redis (SIGKILL), calls `whileDown`, and starts an empty Redis on the same port
   * after `downtimeMs`. Answers the acks and refusals relayed to devices while it was
   * down: sends must go on without it.
   */
  async restartRedis(
    downtimeMs: number,
    whileDown: () => void = () => {},
  ): Promise<{ acks: number; refusals: number }> {
    await this.#redis.stop();
    const acks = this.acks;
    const refusals = this.#refusalCount();
    whileDown();
    await sleep(downtimeMs);
    const during = { acks: this.acks - acks, refusals: this.#refusalCount() - refusals };
    await this.#redis.start();
    return during;
  }

  /**
   * `CLIENT KILL TYPE pubsub`: drops every subscriber (the adapter's, one per node); answers
   * how many, and who they were (`CLIENT LIST TYPE pubsub` just before).
   */
  async killPubsubClients(): Promise<{ killed: number; subscribers: string[] }> {
    const admin = new Redis(this.#redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    admin.on('error', () => {});
    try {
      await admin.connect();
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const subscribers = list
        .split('\n')
        .filter(Boolean)
        .map((line) => /\bsub=(\d+)/.exec(line)?.[1] ?? '?')
        .map((channels) => `${channels} channels`);
      const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      return { killed, subscribers };
    } finally {
      admin.disconnect();
    }
  }

  /** `pg_terminate_backend` on the app's connections; answers how many. */
  terminateBackends(): Promise<number> {
    return this.#database.terminateAppConnections();
  }

  /**
   * Between COMMIT and broadcast: the next broadcast any node publishes (its `xadd` to the
   * fan-out stream, which the send handler starts only once the batch is stored, and
   * before the ack is written) is held at the node's Redis link, and the node is SIGKILLed
   * at once. The batch is stored, its ack may or may not have left, and no other node,
   * nor this node's own clients, ever get the broadcast. The node is started again after
   * `downtimeMs`. Answers the node killed, or null if no broadcast came within `withinMs`.
   */
  async killAtNextBroadcast(withinMs: number, downtimeMs: number): Promise<number | null> {
    const killed = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        this.#broadcastTrap = null;
        resolve(null);
      }, withinMs);
      this.#broadcastTrap = (index) => {
        this.#broadcastTrap = null;
        clearTimeout(timer);
        this.#kill(index);
        // Synchronously, before this process reads anything more from the node.
        void this.#node(index).kill();
        resolve(index);
      };
    });
    if (killed === null) return null;
    await this.#node(killed).kill();
    await sleep(downtimeMs);
    await this.#startNode(killed);
    return killed;
  }

  /**
   * A lost ack: the next `send` ack on its way to a device is dropped with its connection,
   * after the batch was stored. The device must resend it and be answered `duplicate`.
   * Answers whether one came within `withinMs`.
   */
  dropNextAck(withinMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#ackTrap = null;
        resolve(false);
      }, withinMs);
      this.#ackTrap = () => {
        this.#ackTrap = null;
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  // ---- the truth --------------------------------------------------------------

  /** What is stored per room now (see StoredRoom). */
  storedCounts(): Promise<ReadonlyMap<string, StoredRoom>> {
    return this.#database.storedCounts();
  }

  /** Each room's newest seq now, and where its edits and deletes are. */
  heads(): Promise<ReadonlyMap<string, RoomHead>> {
    return this.#database.heads();
  }

  /** Stops every node gracefully (each must exit 0), then reads the rooms of `views`. */
  async stopAndRead(views: ReadonlyMap<string, MemberView[]>): Promise<ChaosHistory['rooms']> {
    await this.stopNodes();
    return this.#database.readRooms(views);
  }

  async stopNodes(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node, i) => {
        this.#serving[i] = false;
        if (!node.running) return;
        this.#expected[i] = 'stop';
        await node.stop();
      }),
    );
  }

  /** Kills what is left and drops the database. */
  async dispose(): Promise<void> {
    for (const [i, node] of this.nodes.entries()) {
      this.#expected[i] = 'kill';
      await node.kill();
    }
    await this.#balancer?.stop();
    for (const link of this.#redisLinks) await link.stop();
    await this.#redis.stop();
    await this.#database.drop();
  }

  // ---- inside -----------------------------------------------------------------

  async #open(): Promise<void> {
    for (let i = 0; i < this.#options.nodes; i++) {
      const link = await Relay.start({
        route: () => ({ port: this.#redis.port, tag: i }),
        inspect: (chunk, direction) => this.#inspectRedis(chunk, direction, i),
      });
      this.#redisLinks.push(link);
    }
    this.nodes = this.#redisLinks.map(
      (link) =>
        new ServerProcess({
          port: 0,
          script: FERRY_MAIN,
          rate: this.#options.rate,
          printStderr: process.env.CHAOS_DEBUG_STDERR === '1',
          env: {
            FERRY_DATABASE_URL: this.#database.url,
            // The node's own way to Redis: see killAtNextBroadcast.
            FERRY_REDIS_URL: `redis://127.0.0.1:${link.port}`,
          },
        }),
    );
    const pick = this.#options.random;
    this.#balancer = await Relay.start({
      route: (client) => {
        const serving = this.serving;
        if (serving.length === 0 || !client.remoteAddress) return null;
        const index = pick.pick(serving);
        const port = this.#node(index).port;
        return { port, localAddress: client.remoteAddress, tag: index };
      },
      inspect: (chunk, direction) => this.#inspectDevice(chunk, direction),
    });
    for (const [i, node] of this.nodes.entries()) {
      node.onExit((exit) => {
        const expected = this.#expected[i];
        this.#expected[i] = null;
        this.#serving[i] = false;
        if (expected === 'kill') return;
        if (expected === 'stop' && exit.code === 0) return;
        const how = exit.signal ?? `code ${exit.code}`;
        const why = expected === 'stop' ? 'on a graceful stop' : 'unasked';
        const last = node.log.filter((line) => line.startsWith(`[boot ${exit.boot}]`)).slice(-15);
        this.crashes.push(`node ${i} (boot ${exit.boot}) exited ${why} (${how})`);
        this.#note(`node ${i} exited ${why} (${how}); its last lines:\n${last.join('\n')}`);
        // A supervisor would start it again; the run goes on, and fails for the crash.
        if (expected !== 'stop') {
          void this.#startNode(i).catch((error: unknown) => {
            this.#note(`node ${i} did not come back: ${String(error)}`);
          });
        }
      });
    }
    // The first boot migrates the database; the others wait on its advisory lock meanwhile.
    await Promise.all(this.nodes.map((_, i) => this.#startNode(i)));
  }

  async #startNode(index: number): Promise<void> {
    const node = this.#node(index);
    if (node.running) return;
    await node.start();
    this.#serving[index] = true;
  }

  /** Marks node `index` as going down by a fault's hand. */
  #kill(index: number): void {
    this.#serving[index] = false;
    this.#expected[index] = 'kill';
  }

  #node(index: number): ServerProcess {
    const node = this.nodes[index];
    if (!node) throw new Error(`the cluster has no node ${index}`);
    return node;
  }

  #inspectDevice(chunk: Buffer, direction: 'up' | 'down'): 'pass' | 'cut' {
    if (direction !== 'down') return 'pass';
    for (const code of refusalCodes(chunk)) {
      this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
    }
    const acks = countAcks(chunk);
    if (acks === 0) return 'pass';
    const trap = this.#ackTrap;
    if (trap) {
      trap();
      return 'cut';
    }
    this.acks += acks;
    return 'pass';
  }

  #refusalCount(): number {
    return [...this.refusals.values()].reduce((sum, count) => sum + count, 0);
  }

  #inspectRedis(chunk: Buffer, direction: 'up' | 'down', index: number): 'pass' | 'cut' {
    const trap = this.#broadcastTrap;
    if (!trap || direction !== 'up' || !publishesBroadcast(chunk)) return 'pass';
    trap(index);
    return 'cut';
  }

  #note(line: string): void {
    this.#options.log(line);
    this.#log.push(line);
    if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
