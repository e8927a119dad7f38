import { useMemo, useSyncExternalStore } from 'react';
import { ROOM_ID_PATTERN } from '../../shared/limits.ts';

const DEFAULT_ROOM = 'lobby';

/** `#/room/<roomId>`, optionally followed by `/invite/<secret>` (an invite link). */
const ROOM_HASH = /^#\/room\/([^/]*)(?:\/invite\/([A-Za-z0-9_-]+))?$/;

/** The room list, on its own (a phone's list screen; a desktop shows it beside every room). */
export const ROOMS_HASH = '#/rooms';

export interface Route {
  /** The room on screen; null on the room list's own route. */
  room: string | null;
  /** The secret of an invite link to a private room. */
  invite: string | undefined;
}

/** The route a hash names; the lobby for anything else. */
export function routeFromHash(hash: string): Route {
  if (hash === ROOMS_HASH) return { room: null, invite: undefined };
  const match = ROOM_HASH.exec(hash);
  const room = match?.[1];
  if (room === undefined || !ROOM_ID_PATTERN.test(room))
    return { room: DEFAULT_ROOM, invite: undefined };
  return { room, invite: match?.[2] };
}

/** The URL fragment of an invite link to `room` (`#/room/<room>/invite/<secret>`). */
export function inviteFragment(room: string, invite: string): string {
  return `#/room/${room}/invite/${invite}`;
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

/** The route the URL hash names, following every hash change. */
export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return useMemo(() => routeFromHash(hash), [hash]);
}
