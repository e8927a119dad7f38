import type { Pool, QueryConfig } from 'pg';
import type { LogEntry, RoomReceipts } from '../../shared/protocol.ts';
import { CommitListeners } from './commit-listeners.ts';
import { KeyedCoalescer } from './keyed-coalescer.ts';
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
import { openMigratedPgPool, queryPg } from './pg-db.ts';
import { asStoreError, isPgUnavailable } from './pg-errors.ts';

/**
 * The most items one `ferry_append_log` call carries. Batches that wait for a busy room are
 * sent together up to this; one larger batch still goes whole (the send handler caps them).
 */
export const MAX_MESSAGES_PER_APPEND_CALL = 1_000;

/**
 * How long `ping` waits for PostgreSQL before it says it did not answer: a LAN round trip
 * is a millisecond, and /readyz must answer in a second or two even over a dead link.
 */
export const PG_PING_TIMEOUT_MS = 1_000;

/**
 * The ping's query. Its `query_timeout` (node-postgres's, missing from its types) fails it
 * even when it was sent on a connection that went silent, and the pool then drops that
 * connection instead of handing it out again. Twice the ping's timeout, so that the caller
 * hears the ping's own message first.
 */
const PING_QUERY: QueryConfig & { query_timeout: number } = {
  text: 'SELECT 1',
  query_timeout: 2 * PG_PING_TIMEOUT_MS,
};

/** One `appendBatch` call, as it waits for its room's next `ferry_append_log` call. */
interface AppendJob {
  author: Author;
  items: readonly AppendInput[];
  nowMs: number;
}

/**
 * One row of `ferry_append_log` (see pg-db.ts): an item's outcome and, when it is stored,
 * the entry as a LogRow without the id and room the caller already knows.
 */
type AppendRow =
  | ({ idx: number; outcome: 'accepted' | 'duplicate'; refusal: null } & Omit<
      LogRow,
      'id' | 'room'
    >)
  | { idx: number; outcome: 'conflict'; refusal: null }
  | { idx: number; outcome: 'refused'; refusal: OpRefusal };

const APPEND_SQL = `
  SELECT idx, outcome, refusal, stored_seq AS seq, stored_ts AS ts,
         stored_author_id AS "authorId", stored_author AS author, stored_body AS body,
         stored_kind AS kind, stored_target AS target, stored_version AS version,
         stored_edited AS edited, stored_deleted AS deleted
  FROM ferry_append_log($1, $2, $3, $4, $5, $6, $7, $8) ORDER BY idx`;

/**
 * `setCursors` in one statement ($1 room, $2 user, $3 delivered, $4 read, $5 now): the
 * cursors asked for, clamped to the room's head (`wanted`), raise the stored ones, and the
 * row is written only when one of them goes up. ON CONFLICT settles racing calls: the
 * update's WHERE is checked against the row as the call that got there first left it, so
 * a value never goes down. A call that moved nothing answers the stored row as its
 * snapshot saw it, raised to what it asked for (which the row then holds at least).
 */
const SET_CURSORS_SQL = `
  WITH wanted AS (
    SELECT least(greatest($3::bigint, $4::bigint), head) AS d, least($4::bigint, head) AS r
    FROM (SELECT coalesce((SELECT last_seq FROM rooms WHERE room = $1), 0) AS head) h
  ), old AS (
    SELECT delivered_seq, read_seq FROM read_cursors WHERE room = $1 AND user_id = $2
  ), moved AS (
    INSERT INTO read_cursors AS c (room, user_id, delivered_seq, read_seq, updated_at)
    SELECT $1, $2, d, r, $5::bigint FROM wanted WHERE d > 0
    ON CONFLICT (room, user_id) DO UPDATE
      SET delivered_seq = greatest(c.delivered_seq, excluded.delivered_seq),
          read_seq = greatest(c.read_seq, excluded.read_seq),
          updated_at = excluded.updated_at
      WHERE excluded.delivered_seq > c.delivered_seq OR excluded.read_seq > c.read_seq
    RETURNING c.delivered_seq, c.read_seq
  )
  SELECT delivered_seq AS delivered, read_seq AS "read", true AS moved FROM moved
  UNION ALL
  SELECT greatest(coalesce(old.delivered_seq, 0), wanted.d),
         greatest(coalesce(old.read_seq, 0), wanted.r), false
  FROM wanted LEFT JOIN old ON true
  WHERE NOT EXISTS (SELECT 1 FROM moved)`;

/** `receiptsFor` in one pass over the room's rows: the user's own, and the others' max. */
const RECEIPTS_SQL = `
  SELECT coalesce(max(delivered_seq) FILTER (WHERE user_id = $2), 0) AS delivered,
         coalesce(max(read_seq) FILTER (WHERE user_id = $2), 0) AS "read",
         coalesce(max(delivered_seq) FILTER (WHERE user_id <> $2), 0) AS "othersDelivered",
         coalesce(max(read_seq) FILTER (WHERE user_id <> $2), 0) AS "othersRead"
  FROM read_cursors WHERE room = $1`;

/**
 * The message store on PostgreSQL, for several Ferry processes sharing one database.
 *
 * Appends to one room are serialised by the room's counter row (see `ferry_append_log` in
 * pg-db.ts), so seqs stay gap-free across processes. Within a process, batches for a room
 * that arrive while a call for it is in flight wait and go as one call (KeyedCoalescer):
 * a hot room costs one round trip and one lock hold per turn, not one per batch.
 */
export class PgMessageStore implements MessageStore {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #appends: KeyedCoalescer<AppendJob, AppendOutcome[]>;
  #closing: Promise<void> | null = null;
  readonly #commits = new CommitListeners();
  /** The ping under way, which every caller meanwhile shares: one query at a time. */
  #pinging: Promise<void> | null = null;

  /** Opens a pool to `connectionString`, migrates the database, and owns the pool. */
  static async open(
    connectionString: string,
    warn: (line: string) => void = console.warn,
  ): Promise<PgMessageStore> {
    return new PgMessageStore(await openMigratedPgPool(connectionString, warn), { ownsPool: true });
  }

  /** Uses a pool to a migrated database; `close()` ends it only if `ownsPool`. */
  constructor(pool: Pool, { ownsPool = false }: { ownsPool?: boolean } = {}) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#appends = new KeyedCoalescer((room, jobs) => this.#appendTogether(room, jobs), {
      weight: (job) => job.items.length,
      maxWeight: MAX_MESSAGES_PER_APPEND_CALL,
    });
  }

  async appendBatch(
    room: string,
    author: Author,
    items: readonly AppendInput[],
    nowMs: number,
  ): Promise<AppendOutcome[]> {
    if (this.#closing) throw new Error('the message store is closed');
    if (items.length === 0) return [];
    return this.#appends.submit(room, { author, items, nowMs });
  }

  /**
   * Appends the batches that waited for one room in one call: one transaction, so all of
   * them are durable when it returns, or none is.
   *
   * If that call fails, nothing of it was stored. When the database is unavailable, every
   * batch fails (each caller retries; appends are idempotent by id). Any other error is
   * some batch's own (a body PostgreSQL cannot hold), so each batch is sent again alone, in
   * order, and fails or succeeds by itself: a bad batch fails only its caller, as with
   * SQLite's per-batch savepoints, and each batch stays all-or-nothing.
   */
  async #appendTogether(
    room: string,
    jobs: readonly AppendJob[],
  ): Promise<PromiseSettledResult<AppendOutcome[]>[]> {
    try {
      return (await this.#callAppend(room, jobs)).map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (jobs.length === 1 || isPgUnavailable(error)) throw asStoreError(error);
    }
    const settled: PromiseSettledResult<AppendOutcome[]>[] = [];
    for (const job of jobs) {
      try {
        const [outcomes] = await this.#callAppend(room, [job]);
        settled.push({ status: 'fulfilled', value: outcomes ?? [] });
      } catch (error) {
        settled.push({ status: 'rejected', reason: asStoreError(error) });
      }
    }
    return settled;
  }

  /** One `ferry_append_log` round trip for `jobs`; their outcomes, split back per job. */
  async #callAppend(room: string, jobs: readonly AppendJob[]): Promise<AppendOutcome[][]> {
    const ids: string[] = [];
    const kinds: string[] = [];
    const targets: (string | null)[] = [];
    const bodies: string[] = [];
    const authorIds: string[] = [];
    const authors: string[] = [];
    const nows: number[] = [];
    for (const job of jobs) {
      for (const item of job.items) {
        ids.push(item.id);
        kinds.push(item.kind ?? 'message');
        if (item.kind === 'edit' || item.kind === 'delete') {
          targets.push(item.target);
          bodies.push(item.kind === 'edit' ? item.body : '');
        } else {
          targets.push(null);
          bodies.push(item.body);
        }
        authorIds.push(job.author.id);
        authors.push(job.author.name);
        nows.push(job.nowMs);
      }
    }
    const started = performance.now();
    const { rows } = await this.#pool.query<AppendRow>({
      name: 'ferry_append_log',
      text: APPEND_SQL,
      values: [room, ids, kinds, targets, bodies, authorIds, authors, nows],
    });
    // One call is one transaction: the group commit of the batches that waited for it.
    if (this.#commits.active) {
      this.#commits.emit({ batches: jobs.length, durationMs: performance.now() - started });
    }
    if (rows.length !== ids.length) {
      throw new Error(`ferry_append_log answered ${rows.length} outcomes for ${ids.length} items`);
    }
    let next = 0;
    return jobs.map((job) =>
      job.items.map((item) => toOutcome(room, item.id, rows[next++] as AppendRow)),
    );
  }

  observeCommits(listener: (stats: CommitStats) => void): () => void {
    return this.#commits.add(listener);
  }

  async storedIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await queryPg<{ id: string }>(this.#pool, {
      name: 'ferry_stored_ids',
      text: 'SELECT id FROM messages WHERE id = ANY($1::text[])',
      values: [ids],
    });
    return new Set(rows.map((row) => row.id));
  }

  async pageAfter(room: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    const rows = await queryPg<LogRow>(this.#pool, {
      name: 'ferry_log_after',
      text: `SELECT ${LOG_COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      values: [room, afterSeq, limit],
    });
    return rows.map(logEntryOf);
  }

  async pageBefore(room: string, beforeSeq: number, limit: number): Promise<LogEntry[]> {
    const rows = await queryPg<LogRow>(this.#pool, {
      name: 'ferry_log_before',
      text: `SELECT * FROM (
               SELECT ${LOG_COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3
             ) page ORDER BY seq`,
      values: [room, beforeSeq, limit],
    });
    return rows.map(logEntryOf);
  }

  async latestSeq(room: string): Promise<number> {
    const [row] = await queryPg<{ last_seq: number }>(this.#pool, {
      name: 'ferry_latest_seq',
      text: 'SELECT last_seq FROM rooms WHERE room = $1',
      values: [room],
    });
    return row?.last_seq ?? 0;
  }

  async latestSeqs(rooms: readonly string[]): Promise<Map<string, number>> {
    const rows = await queryPg<{ room: string; last_seq: number }>(this.#pool, {
      name: 'ferry_latest_seqs',
      text: 'SELECT room, last_seq FROM rooms WHERE room = ANY($1::text[])',
      values: [rooms],
    });
    const seqs = new Map(rooms.map((room) => [room, 0]));
    for (const row of rows) seqs.set(row.room, row.last_seq);
    return seqs;
  }

  async setCursors(
    room: string,
    userId: string,
    cursors: ReadCursors,
    nowMs: number,
  ): Promise<CursorUpdate> {
    const [row] = await queryPg<CursorUpdate>(this.#pool, {
      name: 'ferry_set_cursors',
      text: SET_CURSORS_SQL,
      values: [room, userId, cursors.delivered, cursors.read, nowMs],
    });
    if (!row) throw new Error('setCursors answered no row');
    return row;
  }

  async receiptsFor(room: string, userId: string): Promise<RoomReceipts> {
    const [row] = await queryPg<RoomReceipts>(this.#pool, {
      name: 'ferry_receipts_for',
      text: RECEIPTS_SQL,
      values: [room, userId],
    });
    return row ?? { delivered: 0, read: 0, othersDelivered: 0, othersRead: 0 };
  }

  async count(room: string): Promise<number> {
    const [row] = await queryPg<{ n: number }>(this.#pool, {
      name: 'ferry_count',
      text: 'SELECT count(*) AS n FROM messages WHERE room = $1',
      values: [room],
    });
    return row?.n ?? 0;
  }

  /**
   * `SELECT 1` on the pool, answered within PG_PING_TIMEOUT_MS. Taking a connection may
   * wait longer (PG_CONNECT_TIMEOUT_MS, or a pool whose every connection is busy): the
   * caller hears at the timeout, and callers until that ping settles share it, so a
   * probe every second never piles up queries on a database that does not answer.
   */
  async ping(): Promise<void> {
    if (this.#closing) throw new Error('the message store is closed');
    this.#pinging ??= queryPg(this.#pool, PING_QUERY).then(
      () => {
        this.#pinging = null;
      },
      (error: unknown) => {
        this.#pinging = null;
        throw error;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`PostgreSQL did not answer within ${PG_PING_TIMEOUT_MS} ms`)),
        PG_PING_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.#pinging, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Refuses new appends, lets the ones under way finish, then ends an owned pool. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#appends.idle();
      if (this.#ownsPool) await this.#pool.end();
    })();
    return this.#closing;
  }
}

function toOutcome(room: string, id: string, row: AppendRow): AppendOutcome {
  switch (row.outcome) {
    case 'conflict':
      return { id, status: 'conflict' };
    case 'refused':
      return { id, status: 'refused', code: row.refusal };
    default: {
      const { idx: _idx, outcome, refusal: _refusal, ...stored } = row;
      return { id, status: outcome, message: logEntryOf({ id, room, ...stored }) };
    }
  }
}
