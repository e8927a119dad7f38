import { INVITE_SECRET_BYTES } from '../shared/limits.ts';
import { type CreateRoomAck, DEFAULT_PRIVATE_ROOM_NAME } from '../shared/protocol.ts';
import { createRoomRequestSchema } from '../shared/schemas.ts';
import { hashSecret, newSecret } from './secrets.ts';
import type { FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';
import { describeIssue, fail } from './wire.ts';

/** Private room ids: random, so a room's existence is not guessable from its id either. */
const PRIVATE_ROOM_ID_BYTES = 12;

/**
 * The `createRoom` event: a private room with a random id and invite secret, and the name
 * its members see (DEFAULT_PRIVATE_ROOM_NAME when the client gave none). The secret is
 * answered once and stored only as its hash; the creator is the first member.
 */
export function createCreateRoomHandler(accounts: AccountStore, clock: () => number) {
  return async function handleCreateRoom(
    socket: FerrySocket,
    payload: unknown,
  ): Promise<CreateRoomAck> {
    const parsed = createRoomRequestSchema.safeParse(payload);
    if (!parsed.success) {
      return fail(
        'invalid_payload',
        `createRoom takes { name?: string }: ${describeIssue(parsed.error)}`,
      );
    }
    const name = parsed.data.name ?? DEFAULT_PRIVATE_ROOM_NAME;
    const room = newSecret(PRIVATE_ROOM_ID_BYTES);
    const invite = newSecret(INVITE_SECRET_BYTES);
    await accounts.createPrivateRoom(
      { room, inviteSecretHash: hashSecret(invite), createdBy: socket.data.userId, name },
      clock(),
    );
    return { ok: true, room, invite, name };
  };
}
