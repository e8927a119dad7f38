/** A signed-in user, as a session token resolves to. */
export interface SessionUser {
  userId: string;
  name: string;
}

/**
 * Who may enter a room: anyone (public), or members of a private room, which has the name
 * its creator gave it.
 */
export type RoomAccess =
  | { kind: 'public' }
  | { kind: 'private'; inviteSecretHash: string; name: string };

/** A private room as its creator makes it. */
export interface NewPrivateRoom {
  room: string;
  inviteSecretHash: string;
  createdBy: string;
  /** The name its members see (already validated: see roomNameSchema). */
  name: string;
}

/** A sign-up as the store receives it: every secret already hashed. */
export interface NewUser {
  userId: string;
  name: string;
  tokenHash: string;
  /** SHA-256 of the client's sign-up key, which makes the sign-up idempotent; null without. */
  signupKeyHash: string | null;
}

/** What a sign-up did: made the user, or found the one the same sign-up key made before. */
export interface SignUpOutcome extends SessionUser {
  created: boolean;
}

/**
 * Users, sessions and private rooms. Secrets never reach this interface in clear: callers
 * pass SHA-256 hashes of session tokens, invite secrets and sign-up keys, so a leaked
 * database does not let anyone sign in or join.
 */
export interface AccountStore {
  /**
   * Creates a user and their first session, in one transaction. When `signupKeyHash` is
   * already a user's, no user is made: the session goes to that user, who is answered with
   * `created: false` and the name stored first. This holds for concurrent calls too (the
   * key is unique in the store), so one sign-up key is one user, whatever the timing.
   */
  createUser(user: NewUser, nowMs: number): Promise<SignUpOutcome>;
  /** The user a sign-up key made, while it is still good (see `revokeSession`). */
  signupKeyUser(signupKeyHash: string): Promise<SessionUser | undefined>;
  /** Adds a session to an existing user. */
  addSession(userId: string, tokenHash: string, nowMs: number): Promise<void>;
  /** The live (not revoked) session's user, or undefined. */
  sessionUser(tokenHash: string): Promise<SessionUser | undefined>;
  /**
   * Revokes a session; false if there was no live session with that hash. It also retires
   * the user's sign-up key, so a signed-out identity cannot be signed back into with it.
   */
  revokeSession(tokenHash: string, nowMs: number): Promise<boolean>;
  /** Registers a private room with its creator as the first member. */
  createPrivateRoom(room: NewPrivateRoom, nowMs: number): Promise<void>;
  roomAccess(room: string): Promise<RoomAccess>;
  isMember(room: string, userId: string): Promise<boolean>;
  /** Makes the user a member; a member already stays one. */
  addMember(room: string, userId: string, nowMs: number): Promise<void>;
  /**
   * Ends the user's membership (they left): entering again takes the invite. False if they
   * were not a member. The room stays, with its other members, even when none is left.
   */
  removeMember(room: string, userId: string): Promise<boolean>;
  close(): Promise<void>;
}
