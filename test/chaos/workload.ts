import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import type { ChaosDevice } from './chaos-client.ts';
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

/**
 * A body to type: its text is made from the attempt's unique prefix (`c07#00042`), which
 * keeps every body unique (the checker relies on it).
 */
export interface BodySpec {
  text: (prefix: string) => string;
  /** `refused`: the body is over the limit and must end failed (`body_too_long`). */
  expect: SendAttempt['expect'];
}

/** An ordinary message, padded now and then so batch sizes vary. */
function ordinaryBody(random: SeededRandom): BodySpec {
  const padding = random.chance(0.2) ? ` ${'~'.repeat(random.int(1, 400))}` : '';
  return { text: (prefix) => `${prefix}${padding}`, expect: 'delivered' };
}

/** An ordinary message that says in its text when it was typed, for the person reading notes. */
export function labelled(when: string): BodySpec {
  return { text: (prefix) => `${prefix} (${when})`, expect: 'delivered' };
}

/** A long message (a pasted text): `chars` characters, a few KB on the wire. */
export function largeBody(chars: number): BodySpec {
  return { text: (prefix) => fill(`${prefix} `, 'lorem ipsum ', chars), expect: 'delivered' };
}

/**
 * Hostile input, in the order typed: control characters, lone surrogates, bodies of exactly
 * the maximum length whose JSON is six times their length (a control character or a lone
 * surrogate encodes as `\u0001`), so that three of them in one batch pass 64 KB, and bodies
 * over the limit, one of them far over (30,000 characters, about 180 KB of JSON: more than
 * the server reads in one packet).
 */
export function hostileBodies(): BodySpec[] {
  const delivered = (text: (prefix: string) => string): BodySpec => ({ text, expect: 'delivered' });
  const refused = (text: (prefix: string) => string): BodySpec => ({ text, expect: 'refused' });
  return [
    delivered(
      (prefix) => `${prefix} nul\u0000 bell\u0007 esc\u001b[31m del\u007f tab\t cr\r lf\n.`,
    ),
    delivered((prefix) => `${prefix} high \ud800 low \udfff swapped \udc00\ud800 end`),
    delivered((prefix) => fill(`${prefix} `, '\u0001', MAX_BODY_CHARS)),
    delivered((prefix) => fill(`${prefix} `, '\ud800', MAX_BODY_CHARS)),
    delivered((prefix) => fill(`${prefix} `, '\u001f\udfff', MAX_BODY_CHARS)),
    refused((prefix) => fill(`${prefix} `, 'x', MAX_BODY_CHARS + 1)),
    refused((prefix) => fill(`${prefix} `, '\u0002', 30_000)),
  ];
}

/** `head` followed by `unit` repeated, cut to exactly `length` UTF-16 code units. */
function fill(head: string, unit: string, length: number): string {
  return (head + unit.repeat(Math.ceil(length / unit.length))).slice(0, length);
}

/**
 * Every device types its messages one after another (each `send()` awaited, as a person
 * would), at random moments and sometimes in bursts, while the faults run; faults type
 * more (a message before sleeping, one on waking, a pasted burst, hostile input) through
 * `typeNow`. Records every attempt for the checker: a device's attempts are numbered in the
 * order its `send()` calls resolved, which is the order the server and every view must keep.
 */
export class Workload {
  readonly attempts: SendAttempt[] = [];
  readonly #devices: readonly ChaosDevice[];
  readonly #shape: WorkloadShape;
  readonly #random: SeededRandom;
  readonly #nextIndex = new Map<ChaosDevice, number>();
  /** Attempts of the typing loops (not of faults): the clock progress-triggered faults follow. */
  #scripted = 0;
  /** `send()` calls that resolved: promised messages (and over-limit ones, queued to fail). */
  resolved = 0;
  /** `send()` calls that rejected because the engine went away mid-call. */
  rejected = 0;

  constructor(devices: readonly ChaosDevice[], shape: WorkloadShape, random: SeededRandom) {
    this.#devices = devices;
    this.#shape = shape;
    this.#random = random;
  }

  get total(): number {
    return this.#devices.length * this.#shape.messagesPerClient;
  }

  /** Attempts the typing loops made (faults' extra messages not included). */
  get scripted(): number {
    return this.#scripted;
  }

  /** Share of the typing loops' attempts made so far, 0..1. */
  get progress(): number {
    return this.#scripted / this.total;
  }

  /** Each device's first message, on a clean network, so every member holds the room from seq 1. */
  async greet(): Promise<void> {
    await Promise.all(
      this.#devices.map((device) => this.#attempt(device, ordinaryBody(this.#random), true)),
    );
  }

  /** The rest of every device's messages, concurrently across devices. */
  async run(): Promise<void> {
    // Inside the device's clock, so the person's pauses stop while the device sleeps.
    await Promise.all(this.#devices.map((device) => device.clock.run(() => this.#type(device))));
  }

  /** Types `bodies` on `device` now, in order; `evenAsleep` for the message typed on waking. */
  async typeNow(
    device: ChaosDevice,
    bodies: readonly BodySpec[],
    options: { evenAsleep?: boolean } = {},
  ): Promise<void> {
    for (const body of bodies) await this.#attempt(device, body, false, options.evenAsleep);
  }

  async #type(device: ChaosDevice): Promise<void> {
    const random = this.#random.fork(device.name);
    const { messagesPerClient, meanPauseMs, burstChance, burstMax } = this.#shape;
    let typed = 1;
    while (typed < messagesPerClient) {
      await new Promise((resolve) => setTimeout(resolve, random.exponential(meanPauseMs)));
      const burst = random.chance(burstChance) ? random.int(2, burstMax) : 1;
      for (let k = 0; k < burst && typed < messagesPerClient; k++, typed++) {
        await this.#attempt(device, ordinaryBody(random), true);
      }
    }
  }

  async #attempt(
    device: ChaosDevice,
    body: BodySpec,
    scripted: boolean,
    evenAsleep = false,
  ): Promise<void> {
    if (scripted) this.#scripted += 1;
    await device
      .type(
        async () => {
          // Numbered when its turn comes, so the numbers follow the order of the sends.
          const index = this.#nextIndex.get(device) ?? 0;
          this.#nextIndex.set(device, index + 1);
          const attempt: SendAttempt = {
            sender: device.name,
            room: device.room,
            index,
            body: body.text(`${device.name}#${String(index).padStart(5, '0')}`),
            id: null,
            expect: body.expect,
          };
          this.attempts.push(attempt);
          attempt.id = await device.send(attempt.body);
          this.resolved += 1;
        },
        { evenAsleep },
      )
      .catch(() => {
        this.rejected += 1;
      });
  }
}
