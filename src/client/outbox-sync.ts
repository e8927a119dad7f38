import { clampRetryAfterMs } from '../shared/limits.ts';
import type { SendBatch } from '../shared/protocol.ts';
import { type Settlement, settleAck, settleOversize } from './ack-settlement.ts';
import { type BatchCaps, DEFAULT_BATCH_CAPS, planBatch } from './batch-plan.ts';
import { type PostOutcome, postSendBatch } from './http-send.ts';
import { IDENTITY_LOCK_MAX_WAIT_MS, IdentityKeeper } from './identity-keeper.ts';
import { LocalStore } from './local-store.ts';
import { identityLockName, type Locks, senderLockName, withLockIfPossible } from './locks.ts';
import { NO_CHANNEL, openProfileChannel, type ProfileChannel } from './profile-channel.ts';
import { SYSTEM_TIMERS, type Timers } from './timers.ts';

/** The Background Sync tag the app registers and the service worker answers. */
export const OUTBOX_SYNC_TAG = 'ferry-outbox';

/** How a run over the outbox ended. */
export type OutboxSyncOutcome =
  /** The outbox is empty: everything was sent, or failed for good. */
  | { kind: 'done'; sent: number; failed: number }
  /** A tab holds the sender lock: it sends, and the run left the outbox alone. */
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
 * leaves the outbox to a tab that holds the lock and answers for it (an open tab sends by
 * itself). A holder that does not answer is a page closing (the sync often fires as the
 * last page goes) or a frozen one: the run waits for its lock, up to LOCK_WAIT_MS, and
 * hands back for a retry if it never comes.
 *
 * Under the lock: batch after batch from the head of the outbox, each one settled on the
 * device exactly as a tab settles an ack (ack-settlement.ts, one LocalStore transaction)
 * and told to the open tabs. One batch is in flight at a time, so the server's per-request
 * hold keeps order with nothing more. While it holds the lock it answers the tabs' probes
 * as the sender does, so a tab that opens meanwhile waits for it instead of taking over.
 */
export async function syncOutbox(deps: OutboxSyncDeps): Promise<OutboxSyncOutcome> {
  const { locks, lockName } = deps;
  if (!locks) return drain(deps);
  const now = await locks.request(lockName, { ifAvailable: true }, (lock) =>
    lock === null ? null : drainAsSender(deps),
  );
  if (now) return now;
  if (await holderAnswers(deps)) return { kind: 'busy' };
  try {
    return await locks.request(
      lockName,
      { signal: AbortSignal.timeout(deps.lockWaitMs ?? LOCK_WAIT_MS) },
      () => drainAsSender(deps),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    const reason = 'the sender lock is held by a page that does not answer';
    return { kind: 'retry', sent: 0, failed: 0, reason };
  }
}

/** Whether the lock's holder says it is alive, within HOLDER_ANSWER_MS of a probe. */
function holderAnswers({ channel, timers, holderAnswerMs }: OutboxSyncDeps): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (answered: boolean) => {
      stopListening();
      timers.clearTimeout(timer);
      resolve(answered);
    };
    const stopListening = channel.subscribe((change) => {
      if (change.kind === 'sender') finish(true);
    });
    const timer = timers.setTimeout(() => finish(false), holderAnswerMs ?? HOLDER_ANSWER_MS);
    channel.post({ kind: 'probe' });
  });
}

async function drainAsSender(deps: OutboxSyncDeps): Promise<OutboxSyncOutcome> {
  const answer = () => deps.channel.post({ kind: 'sender', sending: true });
  const stopAnswering = deps.channel.subscribe((change) => {
    if (change.kind === 'probe') answer();
  });
  answer();
  try {
    return await drain(deps);
  } finally {
    stopAnswering();
  }
}

async function drain(deps: OutboxSyncDeps): Promise<OutboxSyncOutcome> {
  const { store, identity, channel, timers } = deps;
  const caps = deps.caps ?? DEFAULT_BATCH_CAPS;
  const tally = { sent: 0, failed: 0 };
  const end = (kind: 'retry' | 'stuck', reason: string): OutboxSyncOutcome => ({
    kind,
    ...tally,
    reason,
  });
  const record = async (room: string, settlement: Settlement) => {
    const { sent, failed, settledOutboxKeys } = settlement;
    await store.commit({ sent, failed, settledOutboxKeys });
    tally.sent += sent.length;
    tally.failed += failed.length;
    const ids = [...sent, ...failed].map((message) => message.id);
    if (ids.length > 0) channel.post({ kind: 'messages', room, ids });
  };

  if (!(await store.getIdentity())) return { kind: 'done', ...tally };
  let waitedMs = 0;
  let signedInAgain = false;
  while (true) {
    const plan = planBatch(await store.readOutbox(0, caps.maxMessages), caps);
    if (plan.kind === 'empty') return { kind: 'done', ...tally };
    const context = () => ({ author: identity.author, now: timers.now() });
    if (plan.kind === 'oversize') {
      await record(plan.entry.room, settleOversize(plan.entry, context()));
      continue;
    }
    let token: string;
    try {
      token = (await identity.handshakeAuth()).token;
    } catch (error) {
      const reason = `sign-up: ${describe(error)}`;
      return end(
        error instanceof Error && error.name === 'SignUpRefusedError' ? 'stuck' : 'retry',
        reason,
      );
    }
    const room = plan.entries[0]?.room ?? '';
    const batch: SendBatch = {
      room,
      messages: plan.entries.map(({ id, body }) => ({ id, body })),
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
