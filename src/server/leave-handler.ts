import type { LeaveAck } from '../shared/protocol.ts';
import { leaveRequestSchema } from '../shared/schemas.ts';
import { roomPayloadRefusal } from './room-payload.ts';
import type { FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';

/**
 * The `leave` event: the socket stops hearing the room, which frees one of its joined-room
 * slots, and for a private room the user's membership ends, so entering again takes the
 * invite. Leaving a room the socket is not in, or a second time, is answered the same: a
 * retried `leave` whose first answer was lost must not fail.
 *
 * Only this socket leaves the socket.io room. The user's other sockets still in it keep
 * hearing its live messages until they leave too or reconnect, but no longer get in:
 * every `send`, `history` and `receipt` checks the membership.
 */
export function createLeaveHandler(accounts: AccountStore) {
  return async function handleLeave(socket: FerrySocket, payload: unknown): Promise<LeaveAck> {
    const parsed = leaveRequestSchema.safeParse(payload);
    if (!parsed.success) return roomPayloadRefusal(parsed.error);
    const { room } = parsed.data;
    // The membership first: if the store fails, nothing changed and leaving again is safe.
    const access = await accounts.roomAccess(room);
    if (access.kind === 'private') await accounts.removeMember(room, socket.data.userId);
    // A socket's own room (its id) is the server's, not a chat room: it stays in it.
    if (room !== socket.id) await socket.leave(room);
    return { ok: true, room };
  };
}
