import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteAccountStore } from '../../src/server/store/sqlite-accounts.ts';
import { tempDir } from '../support/server.ts';
import { runAccountStoreContract } from './account-store.contract.ts';

/** The accounts schema as files written before sign-up keys have it (user_version 2). */
const SCHEMA_BEFORE_SIGNUP_KEYS = `
  CREATE TABLE rooms (room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_ts INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE messages (id TEXT PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
    author TEXT NOT NULL, body TEXT NOT NULL, author_id TEXT NOT NULL DEFAULT '', UNIQUE (room, seq));
  CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL, revoked_at INTEGER) WITHOUT ROWID;
  CREATE TABLE private_rooms (room TEXT PRIMARY KEY, invite_hash TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id), created_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE room_members (room TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users (id),
    joined_at INTEGER NOT NULL, PRIMARY KEY (room, user_id)) WITHOUT ROWID;
  INSERT INTO users VALUES ('u1', 'alice', 1);
  INSERT INTO sessions VALUES ('token-hash', 'u1', 1, NULL);
  INSERT INTO private_rooms VALUES ('secret-room', 'invite-secret-hash', 'u1', 1);
  PRAGMA user_version = 2;
`;

runAccountStoreContract('SQLite in memory', async () => ({
  accounts: new SqliteAccountStore(':memory:'),
  dispose: async () => {},
}));

describe('SQLite accounts', () => {
  it('opens a file written before sign-up keys and keeps its sessions and private rooms', async () => {
    const dir = tempDir();
    const path = `${dir.path}/ferry.db`;
    const old = new Database(path);
    old.exec(SCHEMA_BEFORE_SIGNUP_KEYS);
    old.close();

    const accounts = new SqliteAccountStore(path);
    expect(await accounts.sessionUser('token-hash')).toEqual({ userId: 'u1', name: 'alice' });
    expect(await accounts.roomAccess('secret-room')).toEqual({
      kind: 'private',
      inviteSecretHash: 'invite-secret-hash',
      // Made before rooms had names: the default one.
      name: 'Private room',
    });
    await accounts.close();
    dir.dispose();
  });
});
