import type { FaultPlan } from './faults.ts';
import type { WorkloadShape } from './workload.ts';

export type ProfileName = 'ci' | 'long';

export interface ChaosProfile {
  name: ProfileName;
  clients: number;
  /** Clients per room: every client sends to and reads one room. */
  roomSize: number;
  workload: WorkloadShape;
  faults: FaultPlan;
  /** After healing, how long every device gets to flush and catch up before the check. */
  convergeTimeoutMs: number;
}

/**
 * The CI profile runs inside `npm test` on a shared 2-core machine: 20 × 100 messages over
 * about a minute of faults. The long profile (`npm run chaos`) is 50 × 1,000 over several
 * minutes, with proportionally more of every heavy fault.
 */
export const PROFILES: Record<ProfileName, ChaosProfile> = {
  ci: {
    name: 'ci',
    clients: 20,
    roomSize: 5,
    workload: { messagesPerClient: 100, meanPauseMs: 450, burstChance: 0.15, burstMax: 8 },
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
    },
    convergeTimeoutMs: 60_000,
  },
  long: {
    name: 'long',
    clients: 50,
    roomSize: 10,
    workload: { messagesPerClient: 1_000, meanPauseMs: 450, burstChance: 0.15, burstMax: 8 },
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
    },
    convergeTimeoutMs: 180_000,
  },
};

export function isProfileName(name: string): name is ProfileName {
  return name === 'ci' || name === 'long';
}
