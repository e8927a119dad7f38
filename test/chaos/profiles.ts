import type { ClusterFaultPlan } from './cluster-faults.ts';
import type { FaultPlan } from './faults.ts';
import type { WorkloadShape } from './workload.ts';

export type ProfileName = 'ci' | 'long';

export interface ChaosProfile {
  name: ProfileName;
  clients: number;
  /** Clients per room: every client sends to and reads one room. */
  roomSize: number;
  /**
   * Devices that are one browser profile with several tabs (`sharedTabs` of them, drawn per
   * device): several engines over one IndexedDB database, whose name is picked offline
   * before any connection, so that the tabs sign up at the same moment.
   */
  sharedProfiles: number;
  sharedTabs: readonly [min: number, max: number];
  /**
   * The server's per-user message budget: a small burst, so that holds (`rate_limited`)
   * happen often, and a refill that still lets every device finish its workload in time.
   */
  rateLimit: { burst: number; perMinute: number };
  workload: WorkloadShape;
  faults: FaultPlan;
  /**
   * After healing, how long every device gets to drain its outbox, flush and catch up: an
   * outbox still holding messages then counts as stuck, and the views are read as they are.
   */
  settleTimeoutMs: number;
}

/**
 * Every profile's people edit about one message in ten they type and delete one in twenty,
 * pending or sent, some more than once. Each costs a seq and a token of the rate limit
 * like a message, so the budgets below still let every device finish in time.
 */
const CHANGES = { editShare: 0.1, deleteShare: 0.05 } as const;

/**
 * The CI profile runs inside `npm test` on a shared 2-core machine: 20 × 100 messages over
 * about a minute of faults. The long profile (`npm run chaos`) is 50 × 1,000 over several
 * minutes, with proportionally more of every heavy fault.
 *
 * A slow stretch holds the device at 64 kbit/s up (8,000 bytes a second) for 14–18 s while
 * its person pastes 28–36 texts of 3,500–4,000 characters: 98–144 KB, 12–18 s of upload.
 * A heartbeat ping sent 5 s in then waits behind more than 5 s of queued upload, but the
 * link delivers all along, and socket.io's own ping (every 25 s) does not come up within
 * the stretch: only a client that takes slow for dead reconnects. A freeze stands for
 * 40–60 s asleep, past socket.io's 35 s ping deadline (25 s + 10 s).
 */
export const PROFILES: Record<ProfileName, ChaosProfile> = {
  ci: {
    name: 'ci',
    clients: 20,
    roomSize: 5,
    sharedProfiles: 3,
    sharedTabs: [2, 3],
    rateLimit: { burst: 10, perMinute: 300 },
    workload: {
      messagesPerClient: 100,
      meanPauseMs: 450,
      burstChance: 0.15,
      burstMax: 8,
      ...CHANGES,
    },
    faults: {
      cutMeanMs: 150,
      latencyMaxMs: 40,
      latencyChangeMeanMs: 2_000,
      blackholes: 3,
      blackholeMs: [1_000, 5_000],
      serverKills: 3,
      serverDowntimeMs: [0, 1_000],
      reloads: 8,
      kills: 8,
      killDowntimeMs: [100, 1_000],
      offlines: 8,
      offlineMs: [1_000, 6_000],
      freezes: 3,
      freezeRealMs: [1_000, 3_000],
      freezeSleepMs: [40_000, 60_000],
      slows: 2,
      slowMs: [14_000, 18_000],
      slowUpBytesPerSecond: 8_000,
      slowBurst: [28, 36],
      slowBodyChars: [3_500, 4_000],
      hostiles: 3,
      bursts: 3,
      burstMs: [6_000, 10_000],
      burstSize: [15, 25],
    },
    settleTimeoutMs: 30_000,
  },
  long: {
    name: 'long',
    clients: 50,
    roomSize: 10,
    sharedProfiles: 8,
    sharedTabs: [2, 3],
    rateLimit: { burst: 10, perMinute: 300 },
    workload: {
      messagesPerClient: 1_000,
      meanPauseMs: 450,
      burstChance: 0.15,
      burstMax: 8,
      ...CHANGES,
    },
    faults: {
      cutMeanMs: 150,
      latencyMaxMs: 40,
      latencyChangeMeanMs: 2_000,
      blackholes: 30,
      blackholeMs: [1_000, 5_000],
      serverKills: 3,
      serverDowntimeMs: [0, 1_000],
      reloads: 100,
      kills: 100,
      killDowntimeMs: [100, 1_000],
      offlines: 100,
      offlineMs: [1_000, 10_000],
      freezes: 30,
      freezeRealMs: [1_000, 5_000],
      freezeSleepMs: [40_000, 120_000],
      slows: 20,
      slowMs: [14_000, 18_000],
      slowUpBytesPerSecond: 8_000,
      slowBurst: [28, 36],
      slowBodyChars: [3_500, 4_000],
      hostiles: 30,
      bursts: 30,
      burstMs: [6_000, 10_000],
      burstSize: [15, 25],
    },
    settleTimeoutMs: 120_000,
  },
};

export function isProfileName(name: string): name is ProfileName {
  return name === 'ci' || name === 'long';
}

/** A run against several nodes (`npm run chaos -- --cluster`): see run-cluster.ts. */
export interface ClusterProfile extends Omit<ChaosProfile, 'name'> {
  name: ProfileName;
  /** Ferry processes behind the load balancer. */
  nodes: number;
  cluster: ClusterFaultPlan;
}

/**
 * Device faults the cluster runs leave out: they are the single-node run's subject, and a
 * device offline, asleep or on a slow link would stretch every convergence time timed over
 * it. Nor is there a blackhole: every link silent until the heartbeat finds it (5–10 s)
 * stops all sends, and one that overlapped a Redis outage left it no ack to count (seed 33).
 * Cuts and latency stay (they move clients between nodes), and so do a few tab reloads and
 * kills, and hostile input (PostgreSQL's text is stricter than SQLite's).
 */
const QUIET_DEVICES = {
  blackholes: 0,
  blackholeMs: [1_000, 5_000],
  offlines: 0,
  offlineMs: [1_000, 6_000],
  freezes: 0,
  freezeRealMs: [1_000, 3_000],
  freezeSleepMs: [40_000, 60_000],
  slows: 0,
  slowMs: [14_000, 18_000],
  slowUpBytesPerSecond: 8_000,
  slowBurst: [28, 36],
  slowBodyChars: [3_500, 4_000],
  bursts: 0,
  burstMs: [6_000, 10_000],
  burstSize: [15, 25],
  serverKills: 0,
  serverDowntimeMs: [0, 1_000],
} as const satisfies Partial<FaultPlan>;

/**
 * The CI profile runs inside `npm test` on a shared 2-core machine next to three node
 * processes, PostgreSQL and Redis: 12 devices in 3 rooms, about 45 s of typing, one or two
 * of each cluster fault one after another, and up to 35 s to settle (a head check comes
 * every 15–25 s). Links are cut every 3 s on average rather than every 150 ms: each
 * reconnect costs a sign-in, a join and a catch-up against PostgreSQL, and a link that lives
 * a while leaves a broadcast lost in fan-out to the live repair (a gap, a head) rather than
 * to the next reconnect's catch-up. Acks are dropped on purpose instead (`ackDrops`).
 */
export const CLUSTER_PROFILES: Record<ProfileName, ClusterProfile> = {
  ci: {
    name: 'ci',
    nodes: 3,
    clients: 12,
    roomSize: 4,
    sharedProfiles: 2,
    sharedTabs: [2, 2],
    rateLimit: { burst: 10, perMinute: 300 },
    workload: {
      messagesPerClient: 130,
      meanPauseMs: 450,
      burstChance: 0.15,
      burstMax: 8,
      ...CHANGES,
    },
    faults: {
      ...QUIET_DEVICES,
      cutMeanMs: 3_000,
      latencyMaxMs: 40,
      latencyChangeMeanMs: 2_000,
      reloads: 2,
      kills: 2,
      killDowntimeMs: [100, 1_000],
      hostiles: 1,
    },
    cluster: {
      nodeKills: 2,
      nodeDowntimeMs: [500, 2_000],
      nodePauses: 1,
      nodePauseMs: [2_000, 4_000],
      redisRestarts: 1,
      redisDowntimeMs: [2_000, 4_000],
      pubsubKills: 1,
      pgTerminates: 2,
      commitKills: 2,
      ackDrops: 2,
    },
    settleTimeoutMs: 35_000,
  },
  long: {
    name: 'long',
    nodes: 3,
    clients: 30,
    roomSize: 6,
    sharedProfiles: 5,
    sharedTabs: [2, 3],
    rateLimit: { burst: 10, perMinute: 300 },
    workload: {
      messagesPerClient: 500,
      meanPauseMs: 450,
      burstChance: 0.15,
      burstMax: 8,
      ...CHANGES,
    },
    faults: {
      ...QUIET_DEVICES,
      cutMeanMs: 2_000,
      latencyMaxMs: 40,
      latencyChangeMeanMs: 2_000,
      reloads: 20,
      kills: 20,
      killDowntimeMs: [100, 1_000],
      hostiles: 6,
    },
    cluster: {
      nodeKills: 10,
      nodeDowntimeMs: [500, 5_000],
      nodePauses: 6,
      nodePauseMs: [2_000, 8_000],
      redisRestarts: 5,
      redisDowntimeMs: [2_000, 10_000],
      pubsubKills: 6,
      pgTerminates: 10,
      commitKills: 8,
      ackDrops: 15,
    },
    settleTimeoutMs: 60_000,
  },
};
