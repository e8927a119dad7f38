import type { AccountStore } from './store/account-store.ts';

/**
 * Whether a user may read and write a room: anyone for a public room, members for a private
 * one. Checked on every `send` and `history`, not only at join: membership is the gate for
 * each read and write.
 */
export function createRoomAccess(accounts: AccountStore) {
  return async function mayEnter(room: string, userId: string): Promise<boolean> {
    const access = await accounts.roomAccess(room);
    return access.kind === 'public' || (await accounts.isMember(room, userId));
  };
}
