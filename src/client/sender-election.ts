import type { Locks } from './locks.ts';
import type { ProfileChange, ProfileChannel } from './profile-channel.ts';
import { type Leadership, SenderLock } from './sender-lock.ts';
import type { TimerHandle, Timers } from './timers.ts';
import type { Visibility } from './visibility.ts';

/** How often a follower with messages waiting asks whether the sender is alive. */
export const SENDER_PROBE_INTERVAL_MS = 250;
/**
 * Probes left unanswered before a follower takes the sender lock: about a second of
 * silence. Counted in probes rather than measured on the clock, so a follower whose own
 * page was frozen (its clock jumps on waking) asks again before it concludes anything.
 */
export const SENDER_PROBES_UNANSWERED = 4;

export interface SenderElectionDeps {
  /** Web Locks, or null: then every tab flushes (`solo`). */
  locks: Locks | null;
  lockName: string;
  channel: ProfileChannel;
  timers: Timers;
  visibility: Visibility;
  /** Whether this tab's link is up. */
  isConnected(): boolean;
  /** Whether the profile's outbox holds anything. */
  hasOutbox(): boolean;
  onChange(leadership: Leadership): void;
}

/**
 * Decides whether this tab is the profile's sender, and notices a sender that went
 * silent. Only a leader that is frozen, or whose link is down while this tab's is up, is
 * replaced; a closed or crashed one lets its lock go by itself (see SenderLock).
 *
 * A follower with messages waiting, while it is visible, posts a `probe` every
 * SENDER_PROBE_INTERVAL_MS. The leader answers each probe from its message handler, with
 * no timer of its own (so a hidden, throttled leader still answers at once), saying
 * whether its link is up. An answer that the link is up resets the count, as does any
 * answer while this tab has no link either; after SENDER_PROBES_UNANSWERED probes without
 * one, the follower steals the lock. A new leader announces itself the same way.
 */
export class SenderElection {
  readonly #deps: SenderElectionDeps;
  readonly #lock: SenderLock;
  readonly #unsubscribe: () => void;
  #timer: TimerHandle | null = null;
  #unanswered = 0;
  #closed = false;

  constructor(deps: SenderElectionDeps) {
    this.#deps = deps;
    this.#lock = new SenderLock(deps.locks, deps.lockName, (leadership) =>
      this.#changed(leadership),
    );
    this.#unsubscribe = deps.channel.subscribe((change) => this.#hear(change));
  }

  get leadership(): Leadership {
    return this.#lock.state;
  }

  start(): void {
    this.#lock.start();
    if (this.#lock.state.kind === 'follower') this.#schedule();
  }

  /** This tab's link came up or went down: a leader says so at once. */
  connectionChanged(): void {
    if (this.#lock.state.kind === 'leader') this.#announce();
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    if (this.#timer !== null) this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#lock.release();
  }

  #changed(leadership: Leadership): void {
    this.#unanswered = 0;
    if (leadership.kind === 'leader') this.#announce();
    else this.#schedule();
    this.#deps.onChange(leadership);
  }

  #hear(change: ProfileChange): void {
    const role = this.#lock.state.kind;
    if (change.kind === 'probe' && role === 'leader') this.#announce();
    if (change.kind === 'sender' && (change.sending || !this.#deps.isConnected())) {
      this.#unanswered = 0;
    }
  }

  #announce(): void {
    this.#deps.channel.post({ kind: 'sender', sending: this.#deps.isConnected() });
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = this.#deps.timers.setTimeout(() => {
      this.#timer = null;
      this.#tick();
    }, SENDER_PROBE_INTERVAL_MS);
  }

  #tick(): void {
    if (this.#closed || this.#lock.state.kind !== 'follower') return;
    const waiting = this.#deps.hasOutbox() && this.#deps.visibility.isVisible();
    if (!waiting) {
      this.#unanswered = 0;
    } else if (this.#unanswered >= SENDER_PROBES_UNANSWERED) {
      this.#unanswered = 0;
      this.#lock.steal();
    } else {
      this.#unanswered += 1;
      this.#deps.channel.post({ kind: 'probe' });
    }
    this.#schedule();
  }
}
