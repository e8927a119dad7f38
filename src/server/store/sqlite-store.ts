import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredMessage } from '../../shared/protocol.ts';
import type { AppendInput, AppendOutcome, MessageStore } from './message-store.ts';

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
];

interface MessageRow {
  id: string;
  room: string;
  seq: number;
  ts: number;
  author: string;
  body: string;
}

interface RoomRow {
  last_seq: number;
  last_ts: number;
}

/** The embedded default store: one SQLite file (or `:memory:`), WAL, synchronous=FULL. */
export class SqliteMessageStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #appendTx: (
    room: string,
    author: string,
    items: readonly AppendInput[],
    nowMs: number,
  ) => AppendOutcome[];
  readonly #byId: Database.Statement<[string], MessageRow>;
  readonly #room: Database.Statement<[string], RoomRow>;
  readonly #upsertRoom: Database.Statement<[string, number, number]>;
  readonly #insert: Database.Statement<[string, string, number, number, string, string]>;
  readonly #after: Database.Statement<[string, number, number], MessageRow>;
  readonly #before: Database.Statement<[string, number, number], MessageRow>;
  readonly #count: Database.Statement<[string], { n: number }>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // An ack promises durability, so a commit must survive power loss, not only a crash.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();

    this.#byId = this.#db.prepare(
      'SELECT id, room, seq, ts, author, body FROM messages WHERE id = ?',
    );
    this.#room = this.#db.prepare('SELECT last_seq, last_ts FROM rooms WHERE room = ?');
    this.#upsertRoom = this.#db.prepare(
      `INSERT INTO rooms (room, last_seq, last_ts) VALUES (?, ?, ?)
       ON CONFLICT (room) DO UPDATE SET last_seq = excluded.last_seq, last_ts = excluded.last_ts`,
    );
    this.#insert = this.#db.prepare(
      'INSERT INTO messages (id, room, seq, ts, author, body) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#after = this.#db.prepare(
      `SELECT id, room, seq, ts, author, body FROM messages
       WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#before = this.#db.prepare(
      `SELECT * FROM (SELECT id, room, seq, ts, author, body FROM messages
       WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    );
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM messages WHERE room = ?');

    this.#appendTx = this.#db.transaction((room, author, items, nowMs) => {
      const state = this.#room.get(room) ?? { last_seq: 0, last_ts: 0 };
      let { last_seq: seq, last_ts: ts } = state;
      const outcomes: AppendOutcome[] = [];
      for (const item of items) {
        const existing = this.#byId.get(item.id);
        if (existing) {
          outcomes.push(
            existing.room === room && existing.author === author
              ? { id: item.id, status: 'duplicate', message: existing }
              : { id: item.id, status: 'conflict' },
          );
          continue;
        }
        seq += 1;
        ts = Math.max(nowMs, ts + 1);
        this.#insert.run(item.id, room, seq, ts, author, item.body);
        outcomes.push({
          id: item.id,
          status: 'accepted',
          message: { id: item.id, room, seq, ts, author, body: item.body },
        });
      }
      if (seq !== state.last_seq) this.#upsertRoom.run(room, seq, ts);
      return outcomes;
    });
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v] as string);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async appendBatch(
    room: string,
    author: string,
    items: readonly AppendInput[],
    nowMs: number,
  ): Promise<AppendOutcome[]> {
    return this.#appendTx(room, author, items, nowMs);
  }

  async pageAfter(room: string, afterSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.#after.all(room, afterSeq, limit);
  }

  async pageBefore(room: string, beforeSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.#before.all(room, beforeSeq, limit);
  }

  async latestSeq(room: string): Promise<number> {
    return this.#room.get(room)?.last_seq ?? 0;
  }

  async count(room: string): Promise<number> {
    return this.#count.get(room)?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
