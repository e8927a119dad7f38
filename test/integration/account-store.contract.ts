import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore } from '../../src/server/store/account-store.ts';

const user = (userId: string, signupKeyHash: string | null) => ({
  userId,
  name: userId,
  tokenHash: `token of ${userId}`,
  signupKeyHash,
});

/**
 * The contract every AccountStore keeps (see account-store.ts). Each implementation's test
 * file calls this with a factory for a fresh, empty store.
 */
export function runAccountStoreContract(
  name: string,
  factory: () => Promise<{ accounts: AccountStore; dispose(): Promise<void> }>,
): void {
  describe(`AccountStore contract: ${name}`, () => {
    let accounts: AccountStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ accounts, dispose } = await factory());
    });
    afterEach(async () => {
      await accounts.close();
      await dispose();
    });

    it('makes one user of racing sign-ups with one key, and one user per sign-up without a key', async () => {
      const [first, second, third, fourth] = await Promise.all([
        accounts.createUser(user('first', 'key-hash'), 1),
        accounts.createUser(user('second', 'key-hash'), 1),
        accounts.createUser(user('third', null), 1),
        accounts.createUser(user('fourth', null), 1),
      ]);
      // Either racer may win; the other is answered with the winner.
      const winner = first?.created ? first : second;
      expect([first?.created, second?.created].sort()).toEqual([false, true]);
      expect(first).toMatchObject({ userId: winner?.userId, name: winner?.name });
      expect(second).toMatchObject({ userId: winner?.userId, name: winner?.name });
      expect(third).toEqual({ userId: 'third', name: 'third', created: true });
      expect(fourth).toEqual({ userId: 'fourth', name: 'fourth', created: true });
      const signedIn = { userId: winner?.userId, name: winner?.name };
      expect(await accounts.sessionUser('token of first')).toEqual(signedIn);
      expect(await accounts.sessionUser('token of second')).toEqual(signedIn);
    });

    it('answers a repeated sign-up key with the user it made first, under the first name', async () => {
      await accounts.createUser(user('first', 'key-hash'), 1);
      const again = await accounts.createUser({ ...user('again', 'key-hash'), name: 'other' }, 2);
      expect(again).toEqual({ userId: 'first', name: 'first', created: false });
      expect(await accounts.signupKeyUser('key-hash')).toEqual({ userId: 'first', name: 'first' });
    });

    it('retires the sign-up key when a session of its user is revoked', async () => {
      await accounts.createUser(user('first', 'key-hash'), 1);
      expect(await accounts.signupKeyUser('key-hash')).toMatchObject({ userId: 'first' });
      expect(await accounts.revokeSession('token of first', 2)).toBe(true);
      expect(await accounts.signupKeyUser('key-hash')).toBeUndefined();
    });

    it('resolves live sessions only, and revokes a session once', async () => {
      await accounts.createUser(user('first', null), 1);
      await accounts.addSession('first', 'second device', 2);
      expect(await accounts.sessionUser('second device')).toEqual({
        userId: 'first',
        name: 'first',
      });
      expect(await accounts.revokeSession('second device', 3)).toBe(true);
      expect(await accounts.revokeSession('second device', 4)).toBe(false);
      expect(await accounts.revokeSession('never issued', 4)).toBe(false);
      expect(await accounts.sessionUser('second device')).toBeUndefined();
      expect(await accounts.sessionUser('token of first')).toMatchObject({ userId: 'first' });
    });

    it('makes a private room with its creator as a member, and adds members once', async () => {
      await accounts.createUser(user('owner', null), 1);
      await accounts.createUser(user('guest', null), 1);
      expect(await accounts.roomAccess('hideout')).toEqual({ kind: 'public' });
      await accounts.createPrivateRoom(
        { room: 'hideout', inviteSecretHash: 'invite-hash', createdBy: 'owner', name: 'Hideout' },
        2,
      );
      expect(await accounts.roomAccess('hideout')).toEqual({
        kind: 'private',
        inviteSecretHash: 'invite-hash',
        name: 'Hideout',
      });
      expect(await accounts.isMember('hideout', 'owner')).toBe(true);
      expect(await accounts.isMember('hideout', 'guest')).toBe(false);
      await accounts.addMember('hideout', 'guest', 3);
      await accounts.addMember('hideout', 'guest', 4);
      expect(await accounts.isMember('hideout', 'guest')).toBe(true);
    });

    it('keeps each private room under the name its creator gave it, whatever the characters', async () => {
      await accounts.createUser(user('owner', null), 1);
      const names = ['Family 👪', 'Ünïcødé café', "O'Brien; DROP TABLE users", 'x'.repeat(64)];
      for (const [i, name] of names.entries()) {
        await accounts.createPrivateRoom(
          { room: `room-${i}`, inviteSecretHash: `hash-${i}`, createdBy: 'owner', name },
          2,
        );
      }
      for (const [i, name] of names.entries()) {
        expect(await accounts.roomAccess(`room-${i}`)).toMatchObject({ kind: 'private', name });
      }
    });

    it('ends a membership once when a member leaves, and leaves the room and its other members be', async () => {
      await accounts.createUser(user('owner', null), 1);
      await accounts.createUser(user('guest', null), 1);
      await accounts.createPrivateRoom(
        { room: 'hideout', inviteSecretHash: 'invite-hash', createdBy: 'owner', name: 'Hideout' },
        2,
      );
      await accounts.addMember('hideout', 'guest', 3);
      expect(await accounts.removeMember('hideout', 'guest')).toBe(true);
      expect(await accounts.removeMember('hideout', 'guest')).toBe(false);
      expect(await accounts.removeMember('hideout', 'never-a-member')).toBe(false);
      expect(await accounts.isMember('hideout', 'guest')).toBe(false);
      expect(await accounts.isMember('hideout', 'owner')).toBe(true);
      // The last member leaving does not make the room public.
      expect(await accounts.removeMember('hideout', 'owner')).toBe(true);
      expect(await accounts.roomAccess('hideout')).toMatchObject({ kind: 'private' });
      // Back in with the invite (the join handler checks it): a member again.
      await accounts.addMember('hideout', 'guest', 4);
      expect(await accounts.isMember('hideout', 'guest')).toBe(true);
    });
  });
}
