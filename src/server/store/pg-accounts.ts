import type { Pool } from 'pg';
import type {
  AccountStore,
  NewPrivateRoom,
  NewUser,
  RoomAccess,
  SessionUser,
  SignUpOutcome,
} from './account-store.ts';
import { inPgTransaction, openMigratedPgPool, queryPg } from './pg-db.ts';

const BY_SIGNUP_KEY = 'SELECT id AS "userId", name FROM users WHERE signup_key_hash = $1';
const INSERT_SESSION = 'INSERT INTO sessions (token_hash, user_id, created_at) VALUES ($1, $2, $3)';

/** Users, sessions and private rooms in PostgreSQL (the same rules as sqlite-accounts.ts). */
export class PgAccountStore implements AccountStore {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  #closing: Promise<void> | null = null;

  /** Opens a pool to `connectionString`, migrates the database, and owns the pool. */
  static async open(
    connectionString: string,
    warn: (line: string) => void = console.warn,
  ): Promise<PgAccountStore> {
    return new PgAccountStore(await openMigratedPgPool(connectionString, warn), { ownsPool: true });
  }

  /** Uses a pool to a migrated database; `close()` ends it only if `ownsPool`. */
  constructor(pool: Pool, { ownsPool = false }: { ownsPool?: boolean } = {}) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
  }

  async createUser(user: NewUser, nowMs: number): Promise<SignUpOutcome> {
    return inPgTransaction(this.#pool, async (client) => {
      // A key already taken makes the insert a no-op, decided by the unique index: a racing
      // sign-up with the same key waits here for the first to commit, then inserts nothing.
      const made = await client.query(
        `INSERT INTO users (id, name, created_at, signup_key_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (signup_key_hash) DO NOTHING`,
        [user.userId, user.name, nowMs, user.signupKeyHash],
      );
      // A new statement, so a new snapshot under READ COMMITTED: it sees the winner's row.
      const owner =
        made.rowCount === 0 && user.signupKeyHash !== null
          ? (await client.query<SessionUser>(BY_SIGNUP_KEY, [user.signupKeyHash])).rows[0]
          : undefined;
      const answered = owner
        ? { ...owner, created: false }
        : { userId: user.userId, name: user.name, created: true };
      await client.query(INSERT_SESSION, [user.tokenHash, answered.userId, nowMs]);
      return answered;
    });
  }

  async signupKeyUser(signupKeyHash: string): Promise<SessionUser | undefined> {
    const [row] = await queryPg<SessionUser>(this.#pool, {
      text: BY_SIGNUP_KEY,
      values: [signupKeyHash],
    });
    return row;
  }

  async addSession(userId: string, tokenHash: string, nowMs: number): Promise<void> {
    await queryPg(this.#pool, { text: INSERT_SESSION, values: [tokenHash, userId, nowMs] });
  }

  async sessionUser(tokenHash: string): Promise<SessionUser | undefined> {
    const [row] = await queryPg<SessionUser>(this.#pool, {
      name: 'ferry_session_user',
      text: `SELECT users.id AS "userId", users.name AS name
             FROM sessions JOIN users ON users.id = sessions.user_id
             WHERE sessions.token_hash = $1 AND sessions.revoked_at IS NULL`,
      values: [tokenHash],
    });
    return row;
  }

  async revokeSession(tokenHash: string, nowMs: number): Promise<boolean> {
    // One statement, so one transaction: the session is revoked and its user's sign-up key
    // retired together. Data-modifying WITH clauses run even though nothing reads `retired`.
    const [row] = await queryPg<{ revoked: number }>(this.#pool, {
      text: `WITH revoked AS (
               UPDATE sessions SET revoked_at = $2
               WHERE token_hash = $1 AND revoked_at IS NULL
               RETURNING user_id
             ), retired AS (
               UPDATE users SET signup_key_hash = NULL FROM revoked WHERE users.id = revoked.user_id
             )
             SELECT count(*) AS revoked FROM revoked`,
      values: [tokenHash, nowMs],
    });
    return (row?.revoked ?? 0) > 0;
  }

  async createPrivateRoom(room: NewPrivateRoom, nowMs: number): Promise<void> {
    await queryPg(this.#pool, {
      text: `WITH made AS (
               INSERT INTO private_rooms (room, invite_secret_hash, created_by, created_at, name)
               VALUES ($1, $2, $3, $4, $5)
               RETURNING room, created_by, created_at
             )
             INSERT INTO room_members (room, user_id, joined_at)
             SELECT room, created_by, created_at FROM made
             ON CONFLICT DO NOTHING`,
      values: [room.room, room.inviteSecretHash, room.createdBy, nowMs, room.name],
    });
  }

  async roomAccess(room: string): Promise<RoomAccess> {
    const [row] = await queryPg<{ inviteSecretHash: string; name: string }>(this.#pool, {
      name: 'ferry_room_access',
      text: 'SELECT invite_secret_hash AS "inviteSecretHash", name FROM private_rooms WHERE room = $1',
      values: [room],
    });
    return row
      ? { kind: 'private', inviteSecretHash: row.inviteSecretHash, name: row.name }
      : { kind: 'public' };
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    const rows = await queryPg(this.#pool, {
      name: 'ferry_is_member',
      text: 'SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2',
      values: [room, userId],
    });
    return rows.length > 0;
  }

  async addMember(room: string, userId: string, nowMs: number): Promise<void> {
    await queryPg(this.#pool, {
      text: `INSERT INTO room_members (room, user_id, joined_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING`,
      values: [room, userId, nowMs],
    });
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    const rows = await queryPg(this.#pool, {
      text: 'DELETE FROM room_members WHERE room = $1 AND user_id = $2 RETURNING 1',
      values: [room, userId],
    });
    return rows.length > 0;
  }

  async close(): Promise<void> {
    this.#closing ??= this.#ownsPool ? this.#pool.end() : Promise.resolve();
    return this.#closing;
  }
}
