import { MAX_RETRY_AFTER_MS } from '../shared/limits.ts';
import type { JoinAck } from '../shared/protocol.ts';
import { joinRequestSchema } from '../shared/schemas.ts';
import { roomPayloadRefusal } from './room-payload.ts';
import { secretMatches } from './secrets.ts';
import type { FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';
import type { MessageStore } from './store/message-store.ts';
import { fail } from './wire.ts';

export interface JoinHandlerDeps {
  accounts: AccountStore;
  store: MessageStore;
  clock: () => number;
  /** Most chat rooms one socket may have joined at once. */
  maxRooms: number;
  /** How many chat rooms the socket has joined (its socket.io rooms less the server's own). */
  roomsJoined(socket: FerrySocket): number;
}

/**
 * The `join` event: subscribes the socket to a room's live messages. A private room needs a
 * membership; a valid invite secret makes the user a member first. The answer carries the
 * room's newest seq, its name (a private room's stored name, a public room's id) and the
 * user's receipts in it: their own cursors, set from any of their devices, and the highest
 * of the other members'.
 */
export function createJoinHandler(deps: JoinHandlerDeps) {
  const { accounts, store, clock, maxRooms } = deps;
  return async function handleJoin(socket: FerrySocket, payload: unknown): Promise<JoinAck> {
    const parsed = joinRequestSchema.safeParse(payload);
    if (!parsed.success) return roomPayloadRefusal(parsed.error);
    const { room, invite } = parsed.data;
    if (!socket.rooms.has(room) && deps.roomsJoined(socket) >= maxRooms) {
      // Only a `leave` or a new connection frees a room: ask for the longest wait, so a
      // client that keeps the socket asks again only rarely.
      const message = `this connection has joined ${maxRooms} rooms, the most it may: leave one, or reconnect to start over`;
      return fail('rate_limited', message, MAX_RETRY_AFTER_MS);
    }
    const userId = socket.data.userId;
    const access = await accounts.roomAccess(room);
    if (access.kind === 'private' && !(await accounts.isMember(room, userId))) {
      if (!invite || !secretMatches(invite, access.inviteSecretHash)) {
        return fail('forbidden', 'this room is private: open it with a valid invite link');
      }
      await accounts.addMember(room, userId, clock());
    }
    await socket.join(room);
    const [latestSeq, receipts] = await Promise.all([
      store.latestSeq(room),
      store.receiptsFor(room, userId),
    ]);
    const name = access.kind === 'private' ? access.name : room;
    return { ok: true, room, latestSeq, name, receipts };
  };
}
