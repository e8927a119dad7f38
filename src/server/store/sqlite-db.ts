import Database from 'better-sqlite3';
import { prepareDataFiles } from './data-files.ts';

/**
 * How long a write waits for another connection's lock before it fails. better-sqlite3 is
 * synchronous, so the whole event loop waits with it: every socket's pings, every
 * `/healthz`. Ferry's own transactions hold the lock for a few milliseconds (one fsync), so
 * a short wait rides over a checkpoint or another short writer; anything longer is a lock
 * held on purpose (a `sqlite3` shell inside a transaction, a stuck process), which waiting
 * would not outlast. The write then fails: clients are told to retry later (see
 * store-errors.ts), and the loop is never blocked for more than this per transaction.
 */
export const BUSY_TIMEOUT_MS = 25;

/** Schema versions, applied in order; `PRAGMA user_version` records how far a file got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rooms (
     room TEXT PRIMARY KEY,
     last_seq INTEGER NOT NULL,
     last_ts INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     room TEXT NOT NULL,
     seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     author TEXT NOT NULL,
     body TEXT NOT NULL,
     UNIQUE (room, seq)
   );`,
  `ALTER TABLE messages ADD COLUMN author_id TEXT NOT NULL DEFAULT '';
   CREATE TABLE users (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id),
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   ) WITHOUT ROWID;
   CREATE TABLE private_rooms (
     room TEXT PRIMARY KEY,
     invite_hash TEXT NOT NULL,
     created_by TEXT NOT NULL REFERENCES users (id),
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE room_members (
     room TEXT NOT NULL,
     user_id TEXT NOT NULL REFERENCES users (id),
     joined_at INTEGER NOT NULL,
     PRIMARY KEY (room, user_id)
   ) WITHOUT ROWID;`,
  // Idempotent sign-up: the unique index makes one sign-up key one user, even when two
  // requests with it race. NULLs (sign-ups without a key, retired keys) never collide.
  `ALTER TABLE users ADD COLUMN signup_key_hash TEXT;
   CREATE UNIQUE INDEX users_by_signup_key ON users (signup_key_hash);
   ALTER TABLE private_rooms RENAME COLUMN invite_hash TO invite_secret_hash;`,
  // Edits and deletes: an operation is a row of its room's log (kind, target) at its own
  // seq; the message it targets keeps its latest state (body, edited, deleted, version).
  `ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
   ALTER TABLE messages ADD COLUMN target TEXT;
   ALTER TABLE messages ADD COLUMN version INTEGER;
   ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX messages_by_target ON messages (target) WHERE target IS NOT NULL;`,
  // Room names and read cursors (protocol 4). Rooms made before names get the default one
  // (DEFAULT_PRIVATE_ROOM_NAME). A cursor pair per user and room, read by room (the key's
  // prefix); no reference to users, like messages.author_id: the log's users are ids.
  `ALTER TABLE private_rooms ADD COLUMN name TEXT NOT NULL DEFAULT 'Private room';
   CREATE TABLE read_cursors (
     room TEXT NOT NULL,
     user_id TEXT NOT NULL,
     delivered_seq INTEGER NOT NULL,
     read_seq INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (room, user_id),
     CHECK (read_seq <= delivered_seq)
   ) WITHOUT ROWID;`,
];

/**
 * Opens (creating and migrating) Ferry's SQLite file: WAL, so readers never block the
 * writer, and synchronous=FULL, because an ack promises the message survives power loss.
 * The file is private to the server's user (see data-files.ts); `warn` hears about a
 * folder that other users can enter.
 */
export function openSqlite(
  path: string,
  warn: (line: string) => void = console.warn,
): Database.Database {
  if (path !== ':memory:') prepareDataFiles(path, warn);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
