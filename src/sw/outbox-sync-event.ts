import type { OutboxSyncOutcome } from '../client/outbox-sync.ts';

/**
 * The most a sync waits out the server's holds (its rate limit, a busy store) before it
 * hands the rest back to the browser, which retries later with its own backoff. On the
 * last chance there is no later, so the worker waits longer: Chromium gives a sync event
 * about 3 minutes.
 */
export const HOLD_WAIT_MS = 10_000;
export const LAST_CHANCE_HOLD_WAIT_MS = 90_000;

/** The `sync` event of Background Sync (not in TypeScript's webworker lib). */
export interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

/**
 * What the worker tells the browser of a run: rejecting the event's promise asks for a
 * retry, so only what passes with time rejects, and never on the last chance (the messages
 * stay pending, and the next open of Ferry sends them). A tab holding the sender lock, or
 * something a retry cannot mend, resolves.
 */
export function settleSyncEvent(outcome: OutboxSyncOutcome, lastChance: boolean): void {
  if (outcome.kind === 'retry' && !lastChance) {
    throw new Error(`outbox sync stopped, to be retried: ${outcome.reason}`);
  }
}

/** One line on a run's end, e.g. `done: 3 sent, 0 failed`. */
export function describeSyncOutcome(outcome: OutboxSyncOutcome): string {
  if (outcome.kind === 'busy') return 'busy: a tab is sending';
  const counts = `${outcome.sent} sent, ${outcome.failed} failed`;
  return outcome.kind === 'done'
    ? `done: ${counts}`
    : `${outcome.kind}: ${counts}; ${outcome.reason}`;
}
