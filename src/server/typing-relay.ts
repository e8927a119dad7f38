import { typingRequestSchema } from '../shared/schemas.ts';
import type { FerrySocket } from './socket-types.ts';
import { describeIssue, fail } from './wire.ts';

/**
 * At most TYPING_RELAYS_PER_WINDOW `typing` relays of one socket to one room within any
 * TYPING_RELAY_WINDOW_MS; more are dropped, not queued, so a flood costs the room nothing.
 * A client says it every 2 s while its user types, and at once after a send (which ends it
 * for the others): a few in a second are normal.
 */
export const TYPING_RELAY_WINDOW_MS = 1_000;
export const TYPING_RELAYS_PER_WINDOW = 3;

export type TypingAnswer = { ok: true } | ReturnType<typeof fail>;

/**
 * Relays a `typing` signal to the room's other sockets, on every process (the adapter):
 * volatile, so a socket that cannot take it now never gets it late, and never stored.
 * Only a socket that joined the room may say it types there (joining checked membership).
 */
export function createTypingRelay(clock: () => number) {
  /** Per socket and room, when its last relays went out (at most TYPING_RELAYS_PER_WINDOW). */
  const relayedAt = new WeakMap<FerrySocket, Map<string, number[]>>();

  return function relayTyping(socket: FerrySocket, payload: unknown): TypingAnswer {
    const parsed = typingRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', describeIssue(parsed.error));
    const { room } = parsed.data;
    if (!socket.rooms.has(room)) return fail('forbidden', 'join the room first');
    const now = clock();
    let rooms = relayedAt.get(socket);
    if (!rooms) {
      rooms = new Map();
      relayedAt.set(socket, rooms);
    }
    const recent = (rooms.get(room) ?? []).filter((at) => now - at < TYPING_RELAY_WINDOW_MS);
    if (recent.length >= TYPING_RELAYS_PER_WINDOW) return { ok: true };
    rooms.set(room, [...recent, now]);
    const { userId, name } = socket.data;
    socket.to(room).volatile.emit('typing', { room, userId, name });
    return { ok: true };
  };
}
