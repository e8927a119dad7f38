import { z } from 'zod';

/** What one tab tells the other tabs of its profile: these messages changed in IndexedDB. */
export interface ProfileChange {
  room: string;
  ids: string[];
}

/** The tabs of one browser profile, as one tab sees them. */
export interface ProfileChannel {
  post(change: ProfileChange): void;
  subscribe(listener: (change: ProfileChange) => void): () => void;
  close(): void;
}

/** Another tab is code of this origin, but maybe another version of it: check what it says. */
const changeSchema = z.object({
  room: z.string().max(64),
  ids: z.array(z.string().max(64)).max(1_000),
});

/**
 * A channel over `BroadcastChannel`, which reaches every other tab (and engine) of this
 * origin that opened the same database. Where there is none, tabs simply do not hear of
 * each other until a reload, as before.
 */
export function openProfileChannel(dbName: string): ProfileChannel {
  if (typeof BroadcastChannel === 'undefined') return NO_CHANNEL;
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

const NO_CHANNEL: ProfileChannel = {
  post: () => undefined,
  subscribe: () => () => undefined,
  close: () => undefined,
};
