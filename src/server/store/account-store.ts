/** A signed-in user, as a session token resolves to. */
export interface SessionUser {
  userId: string;
  name: string;
}

/** Who may enter a room: anyone (public), or members of a private room. */
export type RoomAccess = { kind: 'public' } | { kind: 'private'; inviteHash: string };

/**
 * Users, sessions and private rooms. Secrets never reach this interface in clear: callers
 * pass SHA-256 hashes of session tokens and invite secrets, so a leaked database does not
 * let anyone sign in or join.
 */
export interface AccountStore {
  /** Creates a user and their first session, in one transaction. */
  createUser(
    user: { userId: string; name: string; tokenHash: string },
    nowMs: number,
  ): Promise<void>;
  /** The live (not revoked) session's user, or undefined. */
  sessionUser(tokenHash: string): Promise<SessionUser | undefined>;
  /** Revokes a session; false if there was no live session with that hash. */
  revokeSession(tokenHash: string, nowMs: number): Promise<boolean>;
  /** Registers a private room with its creator as the first member. */
  createPrivateRoom(
    room: { room: string; inviteHash: string; createdBy: string },
    nowMs: number,
  ): Promise<void>;
  roomAccess(room: string): Promise<RoomAccess>;
  isMember(room: string, userId: string): Promise<boolean>;
  addMember(room: string, userId: string, nowMs: number): Promise<void>;
  close(): Promise<void>;
}
