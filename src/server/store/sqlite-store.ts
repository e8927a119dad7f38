import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { LogEntry, RoomReceipts } from '../../shared/protocol.ts';
import { CommitListeners } from './commit-listeners.ts';
import { LOG_COLUMNS, type LogRow, logEntryOf } from './log-rows.ts';
import type {
  AppendInput,
  AppendOutcome,
  Author,
  CommitStats,
  CursorUpdate,
  MessageStore,
  OpRefusal,
  ReadCursors,
} from './message-store.ts';
import { openSqlite } from './sqlite-db.ts';
import { isStoreBusy } from './store-errors.ts';

/**
 * After a commit failed on another connection's lock, commits fail at once for this long
 * instead of each waiting BUSY_TIMEOUT_MS on the lock again: however many sockets retry,
 * a held lock costs the event loop one busy wait per pause (a tenth of its time at most).
 */
export const LOCKED_PAUSE_MS = 250;

interface RoomRow {
  last_seq: number;
  last_ts: number;
}

type AppendTx = (
  room: string,
  author: Author,
  items: readonly AppendInput[],
  nowMs: number,
) => AppendOutcome[];

/** One `appendBatch` call waiting for the next group commit. */
interface PendingAppend {
  room: string;
  author: Author;
  items: readonly AppendInput[];
  nowMs: number;
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

/** One `setCursors` call waiting for the next commit of cursors. */
interface PendingCursors {
  room: string;
  userId: string;
  cursors: ReadCursors;
  nowMs: number;
  resolve(update: CursorUpdate): void;
  reject(error: unknown): void;
}

type Settle = () => void;

/** Which file a path names: a file replaced under the same name is another one. */
interface FileIdentity {
  dev: number;
  ino: number;
}

/** The embedded default message store: one SQLite file (or `:memory:`). */
export class SqliteMessageStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #ownsDb: boolean;
  readonly #appendTx: AppendTx;
  readonly #groupTx: Database.Transaction<(group: readonly PendingAppend[]) => Settle[]>;
  #pending: PendingAppend[] = [];
  readonly #cursorsTx: Database.Transaction<(group: readonly PendingCursors[]) => Settle[]>;
  #pendingCursors: PendingCursors[] = [];
  readonly #commits = new CommitListeners();
  /** The last lock failure, repeated to every commit until `until` (performance.now()). */
  #locked: { until: number; error: unknown } | null = null;
  readonly #byId: Database.Statement<[string], LogRow>;
  readonly #room: Database.Statement<[string], RoomRow>;
  readonly #upsertRoom: Database.Statement<[string, number, number]>;
  readonly #insert: Database.Statement<
    [string, string, number, number, string, string, string, string, string | null]
  >;
  readonly #edit: Database.Statement<[string, number, string]>;
  readonly #erase: Database.Statement<[{ seq: number; id: string }]>;
  readonly #after: Database.Statement<[string, number, number], LogRow>;
  readonly #before: Database.Statement<[string, number, number], LogRow>;
  readonly #count: Database.Statement<[string], { n: number }>;
  readonly #stored: Database.Statement<[string], { id: string }>;
  readonly #ping: Database.Statement<[], unknown>;
  readonly #cursors: Database.Statement<[string, string], ReadCursors>;
  readonly #upsertCursors: Database.Statement<[string, string, number, number, number]>;
  readonly #receipts: Database.Statement<[{ room: string; userId: string }], RoomReceipts>;
  /** The database file as it was opened; null for `:memory:`. */
  readonly #file: FileIdentity | null;

  /** Opens the file at `path` (migrating it), or shares an already open database. */
  constructor(source: string | Database.Database) {
    this.#ownsDb = typeof source === 'string';
    this.#db = typeof source === 'string' ? openSqlite(source) : source;
    const db = this.#db;
    this.#byId = db.prepare(`SELECT ${LOG_COLUMNS} FROM messages WHERE id = ?`);
    this.#room = db.prepare('SELECT last_seq, last_ts FROM rooms WHERE room = ?');
    this.#upsertRoom = db.prepare(
      `INSERT INTO rooms (room, last_seq, last_ts) VALUES (?, ?, ?)
       ON CONFLICT (room) DO UPDATE SET last_seq = excluded.last_seq, last_ts = excluded.last_ts`,
    );
    this.#insert = db.prepare(
      `INSERT INTO messages (id, room, seq, ts, author_id, author, body, kind, target)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#edit = db.prepare('UPDATE messages SET body = ?, edited = 1, version = ? WHERE id = ?');
    // The message and every edit of it: no body it ever had is left.
    this.#erase = db.prepare(
      `UPDATE messages SET body = '', deleted = 1,
         version = CASE WHEN id = @id THEN @seq ELSE version END
       WHERE id = @id OR (target = @id AND kind = 'edit')`,
    );
    this.#after = db.prepare(
      `SELECT ${LOG_COLUMNS} FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#before = db.prepare(
      `SELECT * FROM (SELECT ${LOG_COLUMNS} FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?)
       ORDER BY seq`,
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM messages WHERE room = ?');
    // One statement for any number of ids: the list travels as one JSON array parameter.
    this.#stored = db.prepare(
      'SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))',
    );
    // A read transaction over a real table, not `SELECT 1`, which touches no file at all.
    this.#ping = db.prepare('SELECT 1 FROM rooms LIMIT 1');
    this.#file = db.memory || !db.name ? null : identityOf(db.name);
    this.#cursors = db.prepare(
      `SELECT delivered_seq AS delivered, read_seq AS read FROM read_cursors
       WHERE room = ? AND user_id = ?`,
    );
    this.#upsertCursors = db.prepare(
      `INSERT INTO read_cursors (room, user_id, delivered_seq, read_seq, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (room, user_id) DO UPDATE SET delivered_seq = excluded.delivered_seq,
         read_seq = excluded.read_seq, updated_at = excluded.updated_at`,
    );
    // One pass over the room's rows (the key's prefix): the user's own, and the others' max.
    this.#receipts = db.prepare(
      `SELECT coalesce(max(delivered_seq) FILTER (WHERE user_id = @userId), 0) AS delivered,
              coalesce(max(read_seq) FILTER (WHERE user_id = @userId), 0) AS read,
              coalesce(max(delivered_seq) FILTER (WHERE user_id <> @userId), 0) AS othersDelivered,
              coalesce(max(read_seq) FILTER (WHERE user_id <> @userId), 0) AS othersRead
       FROM read_cursors WHERE room = @room`,
    );

    this.#appendTx = db.transaction(
      (room: string, author: Author, items: readonly AppendInput[], nowMs: number) => {
        const state = this.#room.get(room) ?? { last_seq: 0, last_ts: 0 };
        let seq = state.last_seq;
        let ts = state.last_ts;
        const outcomes: AppendOutcome[] = [];
        for (const item of items) {
          const existing = this.#byId.get(item.id);
          if (existing) {
            outcomes.push(
              existing.room === room && existing.authorId === author.id
                ? { id: item.id, status: 'duplicate', message: logEntryOf(existing) }
                : { id: item.id, status: 'conflict' },
            );
            continue;
          }
          const target = item.kind === 'edit' || item.kind === 'delete' ? item.target : null;
          const targetRow = target === null ? undefined : this.#byId.get(target);
          if (target !== null) {
            const code = refusalOf(targetRow, room, author, item.kind === 'edit');
            if (code) {
              outcomes.push({ id: item.id, status: 'refused', code });
              continue;
            }
          }
          seq += 1;
          ts = Math.max(nowMs, ts + 1);
          const kind = item.kind ?? 'message';
          const body = item.kind === 'delete' ? '' : item.body;
          this.#insert.run(item.id, room, seq, ts, author.id, author.name, body, kind, target);
          if (item.kind === 'edit') this.#edit.run(body, seq, item.target);
          else if (item.kind === 'delete' && !targetRow?.deleted) {
            this.#erase.run({ seq, id: item.target });
          }
          const base = { id: item.id, room, seq, ts, authorId: author.id, author: author.name };
          const entry: LogEntry =
            target === null || kind === 'message'
              ? { ...base, body }
              : { ...base, kind, target, body };
          outcomes.push({ id: item.id, status: 'accepted', message: entry });
        }
        if (seq !== state.last_seq) this.#upsertRoom.run(room, seq, ts);
        return outcomes;
      },
    );

    // Cursors, like appends, commit together per turn of the event loop: one WAL sync for
    // every receipt of the turn. Each in its own savepoint, so one that throws fails alone.
    const moveCursors = db.transaction((pending: PendingCursors): CursorUpdate => {
      const { room, userId, cursors, nowMs } = pending;
      const head = this.#room.get(room)?.last_seq ?? 0;
      const old = this.#cursors.get(room, userId) ?? { delivered: 0, read: 0 };
      const update = raiseCursors(old, cursors, head);
      if (update.moved) {
        this.#upsertCursors.run(room, userId, update.delivered, update.read, nowMs);
      }
      return update;
    });
    this.#cursorsTx = db.transaction((group: readonly PendingCursors[]) =>
      group.map((pending): Settle => {
        try {
          const update = moveCursors(pending);
          return () => pending.resolve(update);
        } catch (error) {
          return () => pending.reject(error);
        }
      }),
    );

    // Group commit: the batches that arrive in one turn of the event loop (many sockets
    // under load) share one transaction, so one WAL sync instead of one per batch. Each
    // batch runs in its own savepoint (a nested better-sqlite3 transaction): one that
    // throws is rolled back alone and only its caller sees the error.
    this.#groupTx = db.transaction((group: readonly PendingAppend[]) =>
      group.map((append): Settle => {
        try {
          const outcomes = this.#appendTx(append.room, append.author, append.items, append.nowMs);
          return () => append.resolve(outcomes);
        } catch (error) {
          return () => append.reject(error);
        }
      }),
    );
  }

  /** Commits every waiting batch in one transaction, then answers each caller. */
  #commitPending(): void {
    const group = this.#pending;
    this.#pending = [];
    const locked = this.#locked;
    if (locked && performance.now() < locked.until) {
      for (const append of group) append.reject(locked.error);
      return;
    }
    let settles: Settle[];
    const started = performance.now();
    try {
      // BEGIN IMMEDIATE takes the write lock first, so a lock held elsewhere costs one
      // busy wait for the whole group, not one per batch, and fails before any work.
      settles = this.#groupTx.immediate(group);
    } catch (error) {
      if (isStoreBusy(error)) this.#locked = { until: performance.now() + LOCKED_PAUSE_MS, error };
      for (const append of group) append.reject(error);
      return;
    }
    if (this.#commits.active) {
      this.#commits.emit({ batches: group.length, durationMs: performance.now() - started });
    }
    for (const settle of settles) settle();
  }

  async appendBatch(
    room: string,
    author: Author,
    items: readonly AppendInput[],
    nowMs: number,
  ): Promise<AppendOutcome[]> {
    // Resolves only after the commit: an ack never promises what is not on disk.
    return new Promise((resolve, reject) => {
      this.#pending.push({ room, author, items, nowMs, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#commitPending());
    });
  }

  async setCursors(
    room: string,
    userId: string,
    cursors: ReadCursors,
    nowMs: number,
  ): Promise<CursorUpdate> {
    return new Promise((resolve, reject) => {
      this.#pendingCursors.push({ room, userId, cursors, nowMs, resolve, reject });
      if (this.#pendingCursors.length === 1) setImmediate(() => this.#commitCursors());
    });
  }

  /** Commits every waiting `setCursors` in one transaction, then answers each caller. */
  #commitCursors(): void {
    const group = this.#pendingCursors;
    this.#pendingCursors = [];
    const locked = this.#locked;
    if (locked && performance.now() < locked.until) {
      for (const pending of group) pending.reject(locked.error);
      return;
    }
    let settles: Settle[];
    try {
      settles = this.#cursorsTx.immediate(group);
    } catch (error) {
      if (isStoreBusy(error)) this.#locked = { until: performance.now() + LOCKED_PAUSE_MS, error };
      for (const pending of group) pending.reject(error);
      return;
    }
    for (const settle of settles) settle();
  }

  async receiptsFor(room: string, userId: string): Promise<RoomReceipts> {
    return (
      this.#receipts.get({ room, userId }) ?? {
        delivered: 0,
        read: 0,
        othersDelivered: 0,
        othersRead: 0,
      }
    );
  }

  observeCommits(listener: (stats: CommitStats) => void): () => void {
    return this.#commits.add(listener);
  }

  async storedIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return new Set(this.#stored.all(JSON.stringify(ids)).map((row) => row.id));
  }

  async pageAfter(room: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    return this.#after.all(room, afterSeq, limit).map(logEntryOf);
  }

  async pageBefore(room: string, beforeSeq: number, limit: number): Promise<LogEntry[]> {
    return this.#before.all(room, beforeSeq, limit).map(logEntryOf);
  }

  async latestSeq(room: string): Promise<number> {
    return this.#room.get(room)?.last_seq ?? 0;
  }

  async latestSeqs(rooms: readonly string[]): Promise<Map<string, number>> {
    return new Map(rooms.map((room) => [room, this.#room.get(room)?.last_seq ?? 0]));
  }

  async count(room: string): Promise<number> {
    return this.#count.get(room)?.n ?? 0;
  }

  /**
   * A read, plus a check that the file at the database's path is still the one open: a file
   * removed or replaced under a running server (a restore without stopping it) keeps
   * answering from the old file, and every message stored from then on is lost at the next
   * start. A write lock held by another process does not fail it (see docs/operations.md,
   * "Readiness": every process on the file waits on the same lock, and reads still work).
   */
  async ping(): Promise<void> {
    // The file first: once it is replaced, the read may fail in ways that hide why.
    if (this.#file) this.#checkFile(this.#file);
    this.#ping.get();
  }

  #checkFile(opened: FileIdentity): void {
    const path = this.#db.name;
    let now: FileIdentity;
    try {
      now = identityOf(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new Error(`the database file ${path} was removed while open: restart the server`);
    }
    if (now.dev !== opened.dev || now.ino !== opened.ino) {
      throw new Error(`the database file ${path} was replaced while open: restart the server`);
    }
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.open) this.#db.close();
  }
}

/** Why an edit (or a delete) of `target` by `author` in `room` cannot apply, if it cannot. */
function refusalOf(
  target: LogRow | undefined,
  room: string,
  author: Author,
  isEdit: boolean,
): OpRefusal | null {
  // Another room's message is not revealed: it is as absent as one never stored.
  if (!target || target.room !== room || target.kind !== 'message') return 'not_found';
  if (target.authorId !== author.id) return 'not_author';
  if (isEdit && target.deleted) return 'message_deleted';
  return null;
}

/**
 * The cursors after `given` is applied to `old` in a room whose latest seq is `head`: each
 * one the higher of the two, never above the head, `delivered` never below `read`.
 */
function raiseCursors(old: ReadCursors, given: ReadCursors, head: number): CursorUpdate {
  const read = Math.max(old.read, Math.min(given.read, head));
  const delivered = Math.max(old.delivered, Math.min(Math.max(given.delivered, given.read), head));
  return { delivered, read, moved: delivered !== old.delivered || read !== old.read };
}

function identityOf(path: string): FileIdentity {
  const { dev, ino } = statSync(path);
  return { dev, ino };
}
