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
 * retry. So does a run that stepped aside for a tab (`busy`): that tab may be frozen or
 * closed before it is done, and a retry that finds the outbox empty costs one read. A run
 * that sent everything, or stopped at something no retry mends, resolves; so does every
 * run on the last chance (what is left stays pending, and the next open sends it).
 */
export function settleSyncEvent(outcome: OutboxSyncOutcome, lastChance: boolean): void {
  if ((outcome.kind === 'retry' || outcome.kind === 'busy') && !lastChance) {
    throw new Error(`outbox sync to be retried: ${describeSyncOutcome(outcome)}`);
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
