import { clampRetryAfterMs } from '../shared/limits.ts';
import type { SendBatch } from '../shared/protocol.ts';
import { type Settlement, settleAck, settleOversize } from './ack-settlement.ts';
import { type BatchCaps, DEFAULT_BATCH_CAPS, outgoingItemOf, planBatch } from './batch-plan.ts';
import { type PostOutcome, postSendBatch } from './http-send.ts';
import { IDENTITY_LOCK_MAX_WAIT_MS, IdentityKeeper } from './identity-keeper.ts';
import { LocalStore } from './local-store.ts';
import { identityLockName, type Locks, senderLockName, withLockIfPossible } from './locks.ts';
import { NO_CHANNEL, openProfileChannel, type ProfileChannel } from './profile-channel.ts';
import { SignUpRefusedError } from './session-client.ts';
import { SYSTEM_TIMERS, type Timers } from './timers.ts';

/** The Background Sync tag the app registers and the service worker answers. */
export const OUTBOX_SYNC_TAG = 'ferry-outbox';

/** How a run over the outbox ended. */
export type OutboxSyncOutcome =
  /** The outbox is empty: everything was sent, or failed for good. */
  | { kind: 'done'; sent: number; failed: number }
  /** A tab with a link holds (or took) the sender lock: it sends; the run stepped aside. */
  | { kind: 'busy' }
  /** Stopped at something that passes with time (no network, a server hold): try later. */
  | { kind: 'retry'; sent: number; failed: number; reason: string }
  /** Stopped at something a retry will not mend (a refused sign-up): the next open deals with it. */
  | { kind: 'stuck'; sent: number; failed: number; reason: string };

export interface OutboxSyncDeps {
  store: LocalStore;
  identity: IdentityKeeper;
  /** Puts one batch on the wire; throws for anything that passes with time. */
  post(batch: SendBatch, token: string): Promise<PostOutcome>;
  /** The profile's tabs: told what was settled, and answered while this run is the sender. */
  channel: ProfileChannel;
  /** Web Locks; null runs without the sender lock (every tab then sends too). */
  locks: Locks | null;
  lockName: string;
  timers: Timers;
  /** The most this run waits out server holds (rate limit, store busy) before it gives up. */
  maxHoldWaitMs: number;
  caps?: BatchCaps;
  /** HOLDER_ANSWER_MS and LOCK_WAIT_MS, unless a test asks for others. */
  holderAnswerMs?: number;
  lockWaitMs?: number;
}

/**
 * How long a run waits for the sender lock's holder to answer a probe. A live tab answers
 * from its message handler at once, hidden or not; a tab that is closing (its lock not
 * let go yet) or frozen does not.
 */
export const HOLDER_ANSWER_MS = 1_000;
/** How long a run then waits for a silent holder to let the lock go. */
export const LOCK_WAIT_MS = 10_000;

/**
 * Sends the profile's outbox without a page: what the service worker does on a Background
 * Sync. It is one more sender of the profile, so it runs only under the sender lock, and
 * leaves the outbox to a tab that holds the lock and says its link is up (`busy`). Any
 * other holder is a page being closed (the sync often fires as the last page goes), a
 * frozen one, or a live one without a link: the run waits for the lock, up to
 * LOCK_WAIT_MS, and hands back for a retry if it never comes.
 *
 * Under the lock: batch after batch from the head of the outbox, each one settled on the
 * device exactly as a tab settles an ack (ack-settlement.ts, one LocalStore transaction)
 * and told to the open tabs. One batch is in flight at a time, so the server's per-request
 * hold keeps order with nothing more. While it holds the lock it answers the tabs' probes
 * as the sender does, so a tab that opens meanwhile waits for it instead of taking over.
 */
export async function syncOutbox(deps: OutboxSyncDeps): Promise<OutboxSyncOutcome> {
  if (!deps.locks) return drain(deps, { stolen: false });
  const now = await underLock(deps, { ifAvailable: true });
  if (now !== NOT_GRANTED) return now;
  if (await holderIsSending(deps)) return { kind: 'busy' };
  const waited = await underLock(deps, {
    signal: AbortSignal.timeout(deps.lockWaitMs ?? LOCK_WAIT_MS),
  });
  if (waited !== NOT_GRANTED) return waited;
  const reason = 'the sender lock is held by a page that is not sending';
  return { kind: 'retry', sent: 0, failed: 0, reason };
}

/** Said by `underLock` when the lock was not to be had (held, or the wait ran out). */
const NOT_GRANTED = Symbol('not granted');

/**
 * Drains the outbox as the profile's sender, if the lock is granted. While it holds the
 * lock the run answers probes as a sender does. A tab may still steal the lock (a follower
 * that did not hear the answers, say): the run then stops before its next post, and the
 * tab sends from the head of the outbox, as after any hand-off.
 */
async function underLock(
  deps: OutboxSyncDeps,
  options: { ifAvailable: true } | { signal: AbortSignal },
): Promise<OutboxSyncOutcome | typeof NOT_GRANTED> {
  const run: { stolen: boolean; draining: Promise<OutboxSyncOutcome> | null } = {
    stolen: false,
    draining: null,
  };
  try {
    return await (deps.locks as Locks).request(deps.lockName, options, async (lock) => {
      if (lock === null) return NOT_GRANTED;
      const answer = () => deps.channel.post({ kind: 'sender', sending: true });
      const stopAnswering = deps.channel.subscribe((change) => {
        if (change.kind === 'probe') answer();
      });
      answer();
      try {
        run.draining = drain(deps, run);
        return await run.draining;
      } finally {
        stopAnswering();
      }
    });
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    if (!run.draining) return NOT_GRANTED;
    run.stolen = true;
    // The batch on the wire is settled before the database is let go: what it stored
    // shows as sent, and the tab does not send it again.
    await run.draining.catch(() => undefined);
    return { kind: 'busy' };
  }
}

/**
 * Whether the lock's holder says it is sending, within HOLDER_ANSWER_MS of a probe. A
 * live tab answers from its message handler at once, hidden or not, and says whether its
 * link is up; a tab being closed, or frozen, says nothing.
 */
function holderIsSending({ channel, timers, holderAnswerMs }: OutboxSyncDeps): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (sending: boolean) => {
      stopListening();
      timers.clearTimeout(timer);
      resolve(sending);
    };
    const stopListening = channel.subscribe((change) => {
      if (change.kind === 'sender' && change.sending) finish(true);
    });
    const timer = timers.setTimeout(() => finish(false), holderAnswerMs ?? HOLDER_ANSWER_MS);
    channel.post({ kind: 'probe' });
  });
}

async function drain(deps: OutboxSyncDeps, run: { stolen: boolean }): Promise<OutboxSyncOutcome> {
  const { store, identity, channel, timers } = deps;
  const caps = deps.caps ?? DEFAULT_BATCH_CAPS;
  const tally = { sent: 0, failed: 0 };
  const end = (kind: 'retry' | 'stuck', reason: string): OutboxSyncOutcome => ({
    kind,
    ...tally,
    reason,
  });
  const record = async (room: string, settlement: Settlement) => {
    const { sent, failed, ops, failedOps, settledOutboxKeys } = settlement;
    const localIds = new Set(sent.map((message) => message.id));
    await store.commit({ sent, localIds, failed, ops, failedOps, settledOutboxKeys });
    tally.sent += sent.length + ops.length;
    tally.failed += failed.length + failedOps.length;
    const ids = [...sent, ...failed].map((message) => message.id);
    for (const op of [...ops, ...failedOps]) ids.push(op.target);
    if (ids.length > 0) channel.post({ kind: 'messages', room, ids });
  };

  if (!(await store.getIdentity())) return { kind: 'done', ...tally };
  let token: string | null = null;
  let waitedMs = 0;
  let signedInAgain = false;
  while (!run.stolen) {
    const plan = await store.claimBatch(0, caps.maxMessages, (candidates) =>
      planBatch(candidates, caps),
    );
    if (plan.kind === 'empty') return { kind: 'done', ...tally };
    const context = () => ({ author: identity.author, now: timers.now() });
    if (plan.kind === 'oversize') {
      await record(plan.entry.room, settleOversize(plan.entry, context()));
      continue;
    }
    try {
      token ??= (await identity.handshakeAuth()).token;
    } catch (error) {
      const reason = `sign-up: ${describe(error)}`;
      return end(error instanceof SignUpRefusedError ? 'stuck' : 'retry', reason);
    }
    const room = plan.entries[0]?.room ?? '';
    const batch: SendBatch = {
      room,
      messages: plan.entries.map(outgoingItemOf),
      head: true,
    };
    let outcome: PostOutcome;
    try {
      outcome = await deps.post(batch, token);
    } catch (error) {
      return end('retry', describe(error));
    }
    if (outcome.kind === 'unauthorized') {
      // The session was revoked: as a tab does, drop it and sign up again, once a run.
      if (signedInAgain) return end('stuck', 'the server refused the new session');
      signedInAgain = true;
      await identity.forgetSession();
      token = null;
      continue;
    }
    const settlement = settleAck(plan.entries, outcome.ack, context());
    await record(room, settlement);
    if (settlement.retryAfterMs !== null) {
      const waitMs = clampRetryAfterMs(settlement.retryAfterMs);
      if (waitedMs + waitMs > deps.maxHoldWaitMs) return end('retry', 'the server asked to wait');
      waitedMs += waitMs;
      await new Promise<void>((resolve) => timers.setTimeout(resolve, waitMs));
    } else if (settlement.settledOutboxKeys.length === 0) {
      // An ack that settles nothing would have this loop post the same batch forever.
      return end('retry', 'the server answered none of the batch');
    }
  }
  return { kind: 'busy' };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface RunOutboxSyncOptions {
  /** The profile's IndexedDB database. */
  dbName: string;
  /** The server (the worker's own origin). */
  url: string;
  locks: Locks | null;
  maxHoldWaitMs: number;
  /** The profile's channel; a BroadcastChannel named after the database by default. */
  channel?: ProfileChannel;
  timers?: Timers;
  holderAnswerMs?: number;
  lockWaitMs?: number;
}

/**
 * One run of `syncOutbox` over the profile's real parts: its database (opened for the run
 * and closed after, and let go at once if a newer version needs it), its channel, its
 * locks, the sign-up the tabs use, and `POST /api/messages`.
 */
export async function runOutboxSync(options: RunOutboxSyncOptions): Promise<OutboxSyncOutcome> {
  const { dbName, url, locks } = options;
  const store = await LocalStore.open(dbName);
  const channel = options.channel ?? openProfileChannel(dbName) ?? NO_CHANNEL;
  try {
    const identity = new IdentityKeeper({
      store,
      url,
      identity: (await store.getIdentity()) ?? null,
      onChange: () => undefined,
      onStored: () => channel.post({ kind: 'identity' }),
      exclusive: (work) =>
        withLockIfPossible(locks, identityLockName(dbName), IDENTITY_LOCK_MAX_WAIT_MS, work),
    });
    return await syncOutbox({
      store,
      identity,
      post: (batch, token) => postSendBatch(url, token, batch),
      channel,
      locks,
      lockName: senderLockName(dbName),
      timers: options.timers ?? SYSTEM_TIMERS,
      maxHoldWaitMs: options.maxHoldWaitMs,
      holderAnswerMs: options.holderAnswerMs,
      lockWaitMs: options.lockWaitMs,
    });
  } finally {
    if (!options.channel) channel.close();
    store.close();
  }
}
