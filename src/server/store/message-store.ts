import type { LogEntry, RoomReceipts } from '../../shared/protocol.ts';

/**
 * One item to append, as the client sent it: a message, or an edit or delete of one of the
 * author's messages in the same room. The author comes from the session.
 */
export type AppendInput =
  | { id: string; kind?: 'message'; body: string }
  | { id: string; kind: 'edit'; target: string; body: string }
  | { id: string; kind: 'delete'; target: string };

/**
 * Why an edit or delete was not applied (nothing was stored for it):
 * - `not_found`: the target is not a message of this room;
 * - `not_author`: the target is another user's message;
 * - `message_deleted`: an edit of a deleted message.
 */
export type OpRefusal = 'not_found' | 'not_author' | 'message_deleted';

/** Who sends: the user id decides dedup and conflicts, the name is shown. */
export interface Author {
  id: string;
  name: string;
}

/**
 * What happened to one appended item:
 * - `accepted`: stored now, with the next `seq` of its room;
 * - `duplicate`: the id was stored before by the same author in the same room; this is
 *   the stored entry as it stands now (idempotent retry);
 * - `conflict`: the id belongs to another author or room; nothing about it is revealed;
 * - `refused`: an edit or delete that does not apply (see OpRefusal); it took no seq.
 */
export type AppendOutcome =
  | { id: string; status: 'accepted'; message: LogEntry }
  | { id: string; status: 'duplicate'; message: LogEntry }
  | { id: string; status: 'conflict' }
  | { id: string; status: 'refused'; code: OpRefusal };

/** A member's read cursors in one room: seqs of the room's log, 0 for none. */
export interface ReadCursors {
  /** The highest seq the user's device has stored contiguously. */
  delivered: number;
  /** The highest seq the user has seen on screen. */
  read: number;
}

/** What `setCursors` stored: the cursors now, and whether they moved (went up) with it. */
export interface CursorUpdate extends ReadCursors {
  moved: boolean;
}

/**
 * One commit of appends: the `appendBatch` calls (`batches`) that went into one transaction,
 * and how long the commit took. SQLite groups the calls of one turn of the event loop,
 * PostgreSQL those that waited for their room's previous call (see each store).
 */
export interface CommitStats {
  batches: number;
  durationMs: number;
}

/**
 * The server's message store. Contract (checked by test/integration/message-store.contract.ts
 * for every implementation):
 * - `appendBatch` appends in input order inside one transaction, so either every outcome is
 *   durable when it resolves or none is. Each accepted message gets `seq` = the room's
 *   previous seq + 1 (seqs have no holes) and `ts` = max(now, previous ts + 1), so `ts`
 *   strictly increases with `seq` within a room even when the clock stalls or goes back.
 * - Dedup by id has no time window: an id is stored at most once, ever.
 * - An edit or delete is checked (see OpRefusal) and applied in the same transaction, in
 *   input order, and takes a seq like a message. The target then reads as its latest
 *   state: an edit sets its body and `edited`; a delete empties its body and the bodies of
 *   its edits and sets `deleted` (a tombstone), for good. Either sets its `version` to the
 *   operation's seq. Deleting a deleted message is accepted and changes nothing more.
 * - Pages are ascending by seq, each entry in its state at the time of the read. `pageAfter(room, s)` starts at s + 1; `pageBefore(room, s)`
 *   is the `limit` messages just below s.
 * - Read cursors (one pair per user and room) only go up: `setCursors` keeps, per cursor, the
 *   highest value it has been given, never above the room's latest seq (a higher one is
 *   lowered to it), and `delivered` is never below `read` (reading implies delivery).
 */
export interface MessageStore {
  appendBatch(
    room: string,
    author: Author,
    items: readonly AppendInput[],
    nowMs: number,
  ): Promise<AppendOutcome[]>;
  /**
   * Which of `ids` are stored, by anyone in any room (a duplicate or a conflict if sent
   * again). The send handler charges the rate limit only for the others, and lifts a hold
   * whose message another socket has stored.
   */
  storedIds(ids: readonly string[]): Promise<Set<string>>;
  pageAfter(room: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  pageBefore(room: string, beforeSeq: number, limit: number): Promise<LogEntry[]>;
  /** The highest seq in the room, 0 when it has none. */
  latestSeq(room: string): Promise<number>;
  /** `latestSeq` of many rooms in one read: every room asked is in the map, 0 if empty. */
  latestSeqs(rooms: readonly string[]): Promise<Map<string, number>>;
  /**
   * Moves the user's cursors in `room` up to `cursors` (see the contract above): each one
   * becomes max(stored, given), `delivered` at least `read`, both at most the room's latest
   * seq. Repeats and lower values change nothing. Answers the cursors as stored after it,
   * and whether this call moved them (so exactly the calls that raised a cursor say so).
   * Under a race on PostgreSQL, a call that moved nothing may answer values lower than
   * the racing call stored, never lower than its own.
   */
  setCursors(
    room: string,
    userId: string,
    cursors: ReadCursors,
    nowMs: number,
  ): Promise<CursorUpdate>;
  /**
   * The user's own cursors in `room` (0 when none were set) and the highest `delivered` and
   * `read` of every other user's, in one read.
   */
  receiptsFor(room: string, userId: string): Promise<RoomReceipts>;
  /** How many log entries (messages and operations) the room holds (tests and the chaos checker use it). */
  count(room: string): Promise<number>;
  /**
   * Calls `listener` after each successful commit of appends, for the server's metrics;
   * returns the disposer. Optional: a store that wraps another may leave it out.
   */
  observeCommits?(listener: (stats: CommitStats) => void): () => void;
  /**
   * Resolves once the database answers a trivial read; rejects with what is wrong. For
   * `GET /readyz` (see readiness.ts): cheap enough for a probe every second, and settled
   * within about a second even when the database does not answer at all. It says nothing
   * about writes: SQLite reads go on while another process holds the write lock.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
