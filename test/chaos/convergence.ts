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

/**
 * A room's newest seq, and which of its seqs hold an edit or a delete (seq to the id of the
 * message it changes): a view lists messages only, so it holds such a seq once it shows
 * that message changed by it.
 */
export interface RoomHead {
  head: number;
  ops: ReadonlyMap<number, string>;
}

interface Open {
  fault: string;
  healedAt: number;
  heads: ReadonlyMap<string, RoomHead>;
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
  readonly #heads: () => Promise<ReadonlyMap<string, RoomHead>>;
  readonly #log: (line: string) => void;
  readonly #open = new Set<Open>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    devices: readonly ChaosDevice[],
    heads: () => Promise<ReadonlyMap<string, RoomHead>>,
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
    const now = performance.now();
    for (const open of this.#open) {
      const held = this.#devices.flatMap((device) =>
        device.tabs.map((tab) => {
          const head = open.heads.get(device.room);
          const upTo = heldUpTo(tab.engine, device.room, head?.ops ?? new Map(), head?.head ?? 0);
          return { tab, room: device.room, upTo };
        }),
      );
      const behind = held.filter((each) => each.upTo < (open.heads.get(each.room)?.head ?? 0));
      if (behind.length > 0) {
        if (!open.reported && now - open.healedAt > SLOW_MS) {
          open.reported = true;
          const who = behind.map(
            ({ tab, room, upTo }) =>
              `${tab.label} ${upTo}/${open.heads.get(room)?.head} ` +
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

/**
 * The highest seq up to `head` to which a tab holds its room without a hole (-1 while it is
 * down). An edit's or a delete's seq is held once the tab shows its message at that version
 * or later (a later edit or delete of it covers an earlier one).
 */
function heldUpTo(
  engine: ChaosDevice['engine'],
  room: string,
  ops: ReadonlyMap<number, string>,
  head: number,
): number {
  if (!engine) return -1;
  const seqs = new Set<number>();
  const versions = new Map<string, number>();
  for (const message of engine.room(room).messages) {
    if (message.status !== 'sent') continue;
    seqs.add(message.seq);
    versions.set(message.id, message.version ?? message.seq);
  }
  const held = (seq: number) => {
    const target = ops.get(seq);
    return target === undefined ? seqs.has(seq) : (versions.get(target) ?? 0) >= seq;
  };
  let upTo = 0;
  while (upTo < head && held(upTo + 1)) upTo += 1;
  return upTo;
}

/** The `p`th percentile (0..100) of `values`, nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
