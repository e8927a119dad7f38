import type { ChaosDevice } from './chaos-client.ts';

const POLL_MS = 100;
/** A measurement open this long says once who holds it up, for the person reading the log. */
const SLOW_MS = 10_000;

/** How long the devices took to converge after one healed fault. */
export interface Convergence {
  fault: string;
  /** From the heal to convergence, or to the end of the watch if it never came. */
  ms: number;
  converged: boolean;
}

interface Open {
  fault: string;
  healedAt: number;
  heads: ReadonlyMap<string, number>;
  reported: boolean;
}

/**
 * Times convergence after each healed fault, while the workload goes on typing. A view
 * never equals the server's at one instant then (new messages are always in flight), so
 * what is timed is the nearest thing that can be: from the heal until every tab of every
 * device holds its room gap-free up to the newest seq the server had stored at the heal.
 * That covers what the fault cost (broadcasts lost in fan-out, acks lost with a node, a
 * node's clients moving elsewhere) and nothing typed after it.
 */
export class ConvergenceWatch {
  readonly results: Convergence[] = [];
  readonly #devices: readonly ChaosDevice[];
  readonly #heads: () => Promise<ReadonlyMap<string, number>>;
  readonly #log: (line: string) => void;
  readonly #open = new Set<Open>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    devices: readonly ChaosDevice[],
    heads: () => Promise<ReadonlyMap<string, number>>,
    log: (line: string) => void,
  ) {
    this.#devices = devices;
    this.#heads = heads;
    this.#log = log;
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
  }

  /** Starts timing `fault`, healed now. */
  async measure(fault: string): Promise<void> {
    const healedAt = performance.now();
    this.#open.add({ fault, healedAt, heads: await this.#heads(), reported: false });
  }

  /** Measurements still open. */
  get pending(): number {
    return this.#open.size;
  }

  /** Ends the watch: what has not converged yet is recorded as such, timed until now. */
  stop(): Convergence[] {
    clearInterval(this.#timer);
    this.#poll();
    const now = performance.now();
    for (const open of this.#open) {
      this.results.push({ fault: open.fault, ms: now - open.healedAt, converged: false });
    }
    this.#open.clear();
    return this.results;
  }

  #poll(): void {
    if (this.#open.size === 0) return;
    const held = this.#devices.flatMap((device) =>
      device.tabs.map((tab) => ({
        tab,
        room: device.room,
        upTo: heldUpTo(tab.engine, device.room),
      })),
    );
    const now = performance.now();
    for (const open of this.#open) {
      const behind = held.filter((each) => each.upTo < (open.heads.get(each.room) ?? 0));
      if (behind.length > 0) {
        if (!open.reported && now - open.healedAt > SLOW_MS) {
          open.reported = true;
          const who = behind.map(
            ({ tab, room, upTo }) =>
              `${tab.label} ${upTo}/${open.heads.get(room)} ` +
              `(${tab.engine?.connection.status ?? 'down'})`,
          );
          this.#log(`still converging after ${open.fault}: ${who.join(', ')}`);
        }
        continue;
      }
      this.#open.delete(open);
      this.results.push({ fault: open.fault, ms: now - open.healedAt, converged: true });
    }
  }
}

/** The highest seq up to which a tab holds its room without a hole (-1 while it is down). */
function heldUpTo(engine: ChaosDevice['engine'], room: string): number {
  if (!engine) return -1;
  const seqs = new Set<number>();
  for (const message of engine.room(room).messages) {
    if (message.status === 'sent') seqs.add(message.seq);
  }
  let upTo = 0;
  while (seqs.has(upTo + 1)) upTo += 1;
  return upTo;
}

/** The `p`th percentile (0..100) of `values`, nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
