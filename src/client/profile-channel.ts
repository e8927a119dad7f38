import { z } from 'zod/mini';

/**
 * What one tab tells the other tabs of its profile. Everything durable is in IndexedDB
 * already when it is said; a change only says what to read again.
 * - `messages`: these messages of the room were queued, settled (sent or failed) or
 *   discarded; the outbox count may have changed with them.
 * - `identity`: the stored identity changed (a name picked, a session made or dropped).
 * - `room`: a room's list entry changed (its name, read cursors), or it left the list.
 * - `probe`: a follower with messages waiting asks whether the sender is alive.
 * - `sender`: the sender tab says it holds the sender lock, and whether its link is up
 *   (answering a probe, or on taking the lock). See sender-election.ts.
 */
export type ProfileChange =
  | { kind: 'messages'; room: string; ids: string[] }
  | { kind: 'identity' }
  | { kind: 'room'; room: string }
  | { kind: 'probe' }
  | { kind: 'sender'; sending: boolean };

export type MessagesChange = Extract<ProfileChange, { kind: 'messages' }>;

/** The tabs of one browser profile, as one tab sees them. */
export interface ProfileChannel {
  post(change: ProfileChange): void;
  subscribe(listener: (change: ProfileChange) => void): () => void;
  close(): void;
}

/** Another tab is code of this origin, but maybe another version of it: check what it says. */
const changeSchema = z.pipe(
  // Tabs of versions from before the tabs coordinated post message changes without a kind.
  z.transform((data: unknown) =>
    typeof data === 'object' && data !== null && !('kind' in data)
      ? { ...data, kind: 'messages' }
      : data,
  ),
  z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('messages'),
      room: z.string().check(z.maxLength(64)),
      ids: z.array(z.string().check(z.maxLength(64))).check(z.maxLength(1_000)),
    }),
    z.object({ kind: z.literal('identity') }),
    z.object({ kind: z.literal('room'), room: z.string().check(z.maxLength(64)) }),
    z.object({ kind: z.literal('probe') }),
    z.object({ kind: z.literal('sender'), sending: z.boolean() }),
  ]),
);

/**
 * A channel over `BroadcastChannel`, which reaches every other tab (and engine) of this
 * origin that opened the same database; null where there is none: tabs then do not hear
 * of each other until a reload, and do not coordinate (each one flushes its outbox).
 */
export function openProfileChannel(dbName: string): ProfileChannel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel(`ferry:${dbName}`);
  const listeners = new Set<(change: ProfileChange) => void>();
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const parsed = changeSchema.safeParse(event.data);
    if (!parsed.success) return;
    for (const listener of listeners) listener(parsed.data);
  };
  return {
    post: (change) => channel.postMessage(change),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      channel.close();
    },
  };
}

/** Where there is no channel: nothing is heard, nothing is said. */
export const NO_CHANNEL: ProfileChannel = {
  post: () => undefined,
  subscribe: () => () => undefined,
  close: () => undefined,
};
