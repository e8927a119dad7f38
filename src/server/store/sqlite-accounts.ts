import type Database from 'better-sqlite3';
import type {
  AccountStore,
  NewPrivateRoom,
  NewUser,
  RoomAccess,
  SessionUser,
  SignUpOutcome,
} from './account-store.ts';
import { openSqlite } from './sqlite-db.ts';

/** Users, sessions and private rooms in Ferry's SQLite file. */
export class SqliteAccountStore implements AccountStore {
  readonly #db: Database.Database;
  readonly #ownsDb: boolean;
  readonly #insertUser: Database.Statement<[string, string, number, string | null]>;
  readonly #bySignupKey: Database.Statement<[string], SessionUser>;
  readonly #insertSession: Database.Statement<[string, string, number]>;
  readonly #sessionUser: Database.Statement<[string], SessionUser>;
  readonly #revoke: Database.Statement<[number, string]>;
  readonly #retireSignupKey: Database.Statement<[string]>;
  readonly #insertRoom: Database.Statement<[string, string, string, number, string]>;
  readonly #room: Database.Statement<[string], { inviteSecretHash: string; name: string }>;
  readonly #member: Database.Statement<[string, string], { one: number }>;
  readonly #insertMember: Database.Statement<[string, string, number]>;
  readonly #deleteMember: Database.Statement<[string, string]>;
  readonly #createUserTx: (user: NewUser, nowMs: number) => SignUpOutcome;
  readonly #revokeTx: (tokenHash: string, nowMs: number) => boolean;

  /** Opens the file at `path` (migrating it), or shares an already open database. */
  constructor(source: string | Database.Database) {
    this.#ownsDb = typeof source === 'string';
    this.#db = typeof source === 'string' ? openSqlite(source) : source;
    const db = this.#db;
    // A key already taken makes the insert a no-op, decided by the unique index inside the
    // write transaction, so two racing sign-ups with one key cannot both make a user.
    this.#insertUser = db.prepare(
      `INSERT INTO users (id, name, created_at, signup_key_hash) VALUES (?, ?, ?, ?)
       ON CONFLICT (signup_key_hash) DO NOTHING`,
    );
    this.#bySignupKey = db.prepare(
      'SELECT id AS userId, name FROM users WHERE signup_key_hash = ?',
    );
    this.#insertSession = db.prepare(
      'INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)',
    );
    this.#sessionUser = db.prepare(
      `SELECT users.id AS userId, users.name AS name FROM sessions JOIN users ON users.id = sessions.user_id
       WHERE sessions.token_hash = ? AND sessions.revoked_at IS NULL`,
    );
    this.#revoke = db.prepare(
      'UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL',
    );
    this.#retireSignupKey = db.prepare(
      `UPDATE users SET signup_key_hash = NULL
       WHERE id = (SELECT user_id FROM sessions WHERE token_hash = ?)`,
    );
    this.#insertRoom = db.prepare(
      `INSERT INTO private_rooms (room, invite_secret_hash, created_by, created_at, name)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.#room = db.prepare(
      'SELECT invite_secret_hash AS inviteSecretHash, name FROM private_rooms WHERE room = ?',
    );
    this.#member = db.prepare('SELECT 1 AS one FROM room_members WHERE room = ? AND user_id = ?');
    this.#insertMember = db.prepare(
      'INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#deleteMember = db.prepare('DELETE FROM room_members WHERE room = ? AND user_id = ?');

    this.#createUserTx = db.transaction((user: NewUser, nowMs: number): SignUpOutcome => {
      const made = this.#insertUser.run(user.userId, user.name, nowMs, user.signupKeyHash);
      const owner =
        made.changes === 0 && user.signupKeyHash !== null
          ? this.#bySignupKey.get(user.signupKeyHash)
          : undefined;
      const answered = owner
        ? { ...owner, created: false }
        : { userId: user.userId, name: user.name, created: true };
      this.#insertSession.run(user.tokenHash, answered.userId, nowMs);
      return answered;
    });
    this.#revokeTx = db.transaction((tokenHash: string, nowMs: number): boolean => {
      if (this.#revoke.run(nowMs, tokenHash).changes === 0) return false;
      this.#retireSignupKey.run(tokenHash);
      return true;
    });
  }

  async createUser(user: NewUser, nowMs: number): Promise<SignUpOutcome> {
    return this.#createUserTx(user, nowMs);
  }

  async signupKeyUser(signupKeyHash: string): Promise<SessionUser | undefined> {
    return this.#bySignupKey.get(signupKeyHash);
  }

  async addSession(userId: string, tokenHash: string, nowMs: number): Promise<void> {
    this.#insertSession.run(tokenHash, userId, nowMs);
  }

  async sessionUser(tokenHash: string): Promise<SessionUser | undefined> {
    return this.#sessionUser.get(tokenHash);
  }

  async revokeSession(tokenHash: string, nowMs: number): Promise<boolean> {
    return this.#revokeTx(tokenHash, nowMs);
  }

  async createPrivateRoom(room: NewPrivateRoom, nowMs: number): Promise<void> {
    this.#db.transaction(() => {
      this.#insertRoom.run(room.room, room.inviteSecretHash, room.createdBy, nowMs, room.name);
      this.#insertMember.run(room.room, room.createdBy, nowMs);
    })();
  }

  async roomAccess(room: string): Promise<RoomAccess> {
    const row = this.#room.get(room);
    return row
      ? { kind: 'private', inviteSecretHash: row.inviteSecretHash, name: row.name }
      : { kind: 'public' };
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    return this.#member.get(room, userId) !== undefined;
  }

  async addMember(room: string, userId: string, nowMs: number): Promise<void> {
    this.#insertMember.run(room, userId, nowMs);
  }

  async removeMember(room: string, userId: string): Promise<boolean> {
    return this.#deleteMember.run(room, userId).changes > 0;
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.open) this.#db.close();
  }
}
