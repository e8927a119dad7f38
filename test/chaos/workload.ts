import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import type { ChaosDevice } from './chaos-client.ts';
import type { OpAttempt, SendAttempt } from './checker.ts';
import type { SeededRandom } from './random.ts';

export interface WorkloadShape {
  messagesPerClient: number;
  /** Mean pause between two typing moments of one client. */
  meanPauseMs: number;
  /** Chance that a typing moment is a burst of several messages in a row. */
  burstChance: number;
  burstMax: number;
  /** Chance that a typed message is followed by an edit of one of its device's messages. */
  editShare: number;
  /** Chance that a typed message is followed by a delete of one of its device's messages. */
  deleteShare: number;
}

/** Of the edits and deletes typed in a run. */
export interface OpCounts {
  edits: number;
  deletes: number;
  /** Typed on a message its tab still showed pending (an edit in place, a delete taking it back). */
  onPending: number;
  /** Typed on a message already edited. */
  reedits: number;
  /** Calls that rejected (the engine went away mid-call, say), by reason. */
  rejected: Record<string, number>;
}

/** How often an edit or delete picks one of the device's last few messages, likely pending. */
const RECENT_TARGET_CHANCE = 0.5;
const RECENT_TARGETS = 3;
/** How often an edit or delete picks a message edited before (edited twice, deleted once edited). */
const EDITED_TARGET_CHANCE = 0.25;

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

/** The unique start of every body typed for a device's `index`th attempt (`c07#00042`). */
function prefixOf(device: ChaosDevice, index: number): string {
  return `${device.name}#${String(index).padStart(5, '0')}`;
}

/** `head` followed by `unit` repeated, cut to exactly `length` UTF-16 code units. */
function fill(head: string, unit: string, length: number): string {
  return (head + unit.repeat(Math.ceil(length / unit.length))).slice(0, length);
}

/**
 * Every device types its messages one after another (each `send()` awaited, as a person
 * would), at random moments and sometimes in bursts, while the faults run; faults type
 * more (a message before sleeping, one on waking, a pasted burst, hostile input) through
 * `typeNow`. Now and then a device's person edits or deletes one of its messages, pending
 * or sent, through the same one-at-a-time queue. Records every attempt for the checker: a
 * device's attempts are numbered in the order its `send()` calls resolved, which is the
 * order the server and every view must keep, and its edits and deletes are kept in the
 * order typed, the last of which decides how a message ends.
 */
export class Workload {
  readonly attempts: SendAttempt[] = [];
  readonly ops: OpAttempt[] = [];
  readonly #devices: readonly ChaosDevice[];
  readonly #shape: WorkloadShape;
  readonly #random: SeededRandom;
  readonly #nextIndex = new Map<ChaosDevice, number>();
  /** Each device's promised, valid messages not deleted yet: what its person may change. */
  readonly #changeable = new Map<ChaosDevice, SendAttempt[]>();
  /** Edits typed per message, which number the edits' bodies. */
  readonly #edits = new Map<SendAttempt, number>();
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

  /**
   * What the edits and deletes typed so far came to. The counts are of calls that resolved
   * (queued for sure): the checker accepts either outcome of one that rejected, so a run
   * whose every edit threw must not pass for a run that edited.
   */
  opCounts(): OpCounts {
    const rejected: Record<string, number> = {};
    for (const op of this.ops) {
      if (op.resolved) continue;
      const reason = op.error ?? 'unknown';
      rejected[reason] = (rejected[reason] ?? 0) + 1;
    }
    const queued = this.ops.filter((op) => op.resolved);
    const edited = new Set<string>();
    let reedits = 0;
    for (const op of queued) {
      if (op.kind !== 'edit') continue;
      if (edited.has(op.target)) reedits += 1;
      edited.add(op.target);
    }
    return {
      edits: queued.filter((op) => op.kind === 'edit').length,
      deletes: queued.filter((op) => op.kind === 'delete').length,
      onPending: queued.filter((op) => op.targetStatus === 'pending').length,
      reedits,
      rejected,
    };
  }

  async #type(device: ChaosDevice): Promise<void> {
    const random = this.#random.fork(device.name);
    // Apart, so that the edits and deletes do not shift the typing schedule's draws.
    const changes = this.#random.fork(`${device.name} changes`);
    const { messagesPerClient, meanPauseMs, burstChance, burstMax } = this.#shape;
    let typed = 1;
    while (typed < messagesPerClient) {
      await new Promise((resolve) => setTimeout(resolve, random.exponential(meanPauseMs)));
      const burst = random.chance(burstChance) ? random.int(2, burstMax) : 1;
      for (let k = 0; k < burst && typed < messagesPerClient; k++, typed++) {
        await this.#attempt(device, ordinaryBody(random), true);
        await this.#maybeChange(device, changes);
      }
    }
  }

  /** Now and then, an edit or a delete of one of the device's messages. */
  async #maybeChange(device: ChaosDevice, random: SeededRandom): Promise<void> {
    const { editShare, deleteShare } = this.#shape;
    const roll = random.next();
    if (roll >= editShare + deleteShare) return;
    const kind = roll < editShare ? 'edit' : 'delete';
    const target = this.#pickTarget(device, random);
    if (!target?.id) return;
    const edits = (this.#edits.get(target) ?? 0) + (kind === 'edit' ? 1 : 0);
    this.#edits.set(target, edits);
    const padding = random.chance(0.2) ? ` ${'~'.repeat(random.int(1, 400))}` : '';
    const op: OpAttempt = {
      sender: device.name,
      room: device.room,
      target: target.id,
      kind,
      // Unique like every body typed: the checker tells edits apart by body.
      body: kind === 'edit' ? `${prefixOf(device, target.index)} edit ${edits}${padding}` : '',
      targetStatus: 'absent',
      resolved: false,
      error: null,
    };
    // Nothing is done to a message once a delete of it was typed, even one that rejected.
    if (kind === 'delete') {
      const own = this.#changeable.get(device) ?? [];
      own.splice(own.indexOf(target), 1);
    }
    this.ops.push(op);
    const { target: id, body } = op;
    await device
      .type(async () => {
        await device.change(id, kind, body, (status) => {
          op.targetStatus = status;
        });
        op.resolved = true;
      })
      .catch((error: unknown) => {
        op.error = error instanceof Error ? error.message : String(error);
      });
  }

  /**
   * One of the device's messages to change: often one of the last few typed (the likeliest
   * to be pending still), sometimes one already edited, else any.
   */
  #pickTarget(device: ChaosDevice, random: SeededRandom): SendAttempt | null {
    const own = this.#changeable.get(device) ?? [];
    if (own.length === 0) return null;
    if (random.chance(RECENT_TARGET_CHANCE)) return random.pick(own.slice(-RECENT_TARGETS));
    const edited = own.filter((attempt) => this.#edits.has(attempt));
    if (edited.length > 0 && random.chance(EDITED_TARGET_CHANCE)) return random.pick(edited);
    return random.pick(own);
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
            body: body.text(prefixOf(device, index)),
            id: null,
            expect: body.expect,
          };
          this.attempts.push(attempt);
          attempt.id = await device.send(attempt.body);
          this.resolved += 1;
          // An over-limit body is never changed: it is promised a failure, nothing else.
          if (attempt.expect === 'delivered') {
            const own = this.#changeable.get(device) ?? [];
            own.push(attempt);
            this.#changeable.set(device, own);
          }
        },
        { evenAsleep },
      )
      .catch(() => {
        this.rejected += 1;
      });
  }
}
