import type Database from 'better-sqlite3';
import type { AccountStore, RoomAccess, SessionUser } from './account-store.ts';
import { openSqlite } from './sqlite-db.ts';

/** Users, sessions and private rooms in Ferry's SQLite file. */
export class SqliteAccountStore implements AccountStore {
  readonly #db: Database.Database;
  readonly #ownsDb: boolean;
  readonly #insertUser: Database.Statement<[string, string, number]>;
  readonly #insertSession: Database.Statement<[string, string, number]>;
  readonly #sessionUser: Database.Statement<[string], SessionUser>;
  readonly #revoke: Database.Statement<[number, string]>;
  readonly #insertRoom: Database.Statement<[string, string, string, number]>;
  readonly #room: Database.Statement<[string], { inviteHash: string }>;
  readonly #member: Database.Statement<[string, string], { one: number }>;
  readonly #insertMember: Database.Statement<[string, string, number]>;

  /** Opens the file at `path` (migrating it), or shares an already open database. */
  constructor(source: string | Database.Database) {
    this.#ownsDb = typeof source === 'string';
    this.#db = typeof source === 'string' ? openSqlite(source) : source;
    const db = this.#db;
    this.#insertUser = db.prepare('INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)');
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
    this.#insertRoom = db.prepare(
      'INSERT INTO private_rooms (room, invite_hash, created_by, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#room = db.prepare('SELECT invite_hash AS inviteHash FROM private_rooms WHERE room = ?');
    this.#member = db.prepare('SELECT 1 AS one FROM room_members WHERE room = ? AND user_id = ?');
    this.#insertMember = db.prepare(
      'INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
  }

  async createUser(
    user: { userId: string; name: string; tokenHash: string },
    nowMs: number,
  ): Promise<void> {
    this.#db.transaction(() => {
      this.#insertUser.run(user.userId, user.name, nowMs);
      this.#insertSession.run(user.tokenHash, user.userId, nowMs);
    })();
  }

  async sessionUser(tokenHash: string): Promise<SessionUser | undefined> {
    return this.#sessionUser.get(tokenHash);
  }

  async revokeSession(tokenHash: string, nowMs: number): Promise<boolean> {
    return this.#revoke.run(nowMs, tokenHash).changes > 0;
  }

  async createPrivateRoom(
    room: { room: string; inviteHash: string; createdBy: string },
    nowMs: number,
  ): Promise<void> {
    this.#db.transaction(() => {
      this.#insertRoom.run(room.room, room.inviteHash, room.createdBy, nowMs);
      this.#insertMember.run(room.room, room.createdBy, nowMs);
    })();
  }

  async roomAccess(room: string): Promise<RoomAccess> {
    const row = this.#room.get(room);
    return row ? { kind: 'private', inviteHash: row.inviteHash } : { kind: 'public' };
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    return this.#member.get(room, userId) !== undefined;
  }

  async addMember(room: string, userId: string, nowMs: number): Promise<void> {
    this.#insertMember.run(room, userId, nowMs);
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.open) this.#db.close();
  }
}
