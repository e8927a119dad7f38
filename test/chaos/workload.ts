import type { ChaosClient } from './chaos-client.ts';
import type { SendAttempt } from './checker.ts';
import type { SeededRandom } from './random.ts';

export interface WorkloadShape {
  messagesPerClient: number;
  /** Mean pause between two typing moments of one client. */
  meanPauseMs: number;
  /** Chance that a typing moment is a burst of several messages in a row. */
  burstChance: number;
  burstMax: number;
}

/** Unique per attempt (the checker relies on it); padded so batches vary in size. */
function bodyOf(sender: string, index: number, random: SeededRandom): string {
  const padding = random.chance(0.2) ? ` ${'~'.repeat(random.int(1, 400))}` : '';
  return `${sender}#${String(index).padStart(5, '0')}${padding}`;
}

/**
 * Every client types its messages one after another (each `send()` awaited, as a person
 * would), at random moments and sometimes in bursts, while the faults run. Records every
 * attempt for the checker: the order of one sender's attempts is the order the server and
 * every view must keep.
 */
export class Workload {
  readonly attempts: SendAttempt[] = [];
  readonly #clients: readonly ChaosClient[];
  readonly #shape: WorkloadShape;
  readonly #random: SeededRandom;
  /** `send()` calls that resolved: promised messages. */
  resolved = 0;
  /** `send()` calls that rejected because the engine went away mid-call. */
  rejected = 0;

  constructor(clients: readonly ChaosClient[], shape: WorkloadShape, random: SeededRandom) {
    this.#clients = clients;
    this.#shape = shape;
    this.#random = random;
  }

  get total(): number {
    return this.#clients.length * this.#shape.messagesPerClient;
  }

  /** Share of all attempts made so far, 0..1: the clock progress-triggered faults follow. */
  get progress(): number {
    return this.attempts.length / this.total;
  }

  /** Each client's first message, on a clean network, so every member holds the room from seq 1. */
  async greet(): Promise<void> {
    await Promise.all(this.#clients.map((client) => this.#attempt(client, 0, this.#random)));
  }

  /** The rest of every client's messages, concurrently across clients. */
  async run(): Promise<void> {
    await Promise.all(this.#clients.map((client) => this.#type(client)));
  }

  async #type(client: ChaosClient): Promise<void> {
    const random = this.#random.fork(client.name);
    const { messagesPerClient, meanPauseMs, burstChance, burstMax } = this.#shape;
    let index = 1;
    while (index < messagesPerClient) {
      await new Promise((resolve) => setTimeout(resolve, random.exponential(meanPauseMs)));
      const burst = random.chance(burstChance) ? random.int(2, burstMax) : 1;
      for (let k = 0; k < burst && index < messagesPerClient; k++, index++) {
        await this.#attempt(client, index, random);
      }
    }
  }

  async #attempt(client: ChaosClient, index: number, random: SeededRandom): Promise<void> {
    const attempt: SendAttempt = {
      sender: client.name,
      room: client.room,
      index,
      body: bodyOf(client.name, index, random),
      id: null,
    };
    this.attempts.push(attempt);
    try {
      attempt.id = await client.send(attempt.body);
      this.resolved += 1;
    } catch {
      this.rejected += 1;
    }
  }
}
