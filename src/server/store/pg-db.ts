import { Pool, type PoolClient, type QueryConfig, type QueryResultRow, TypeOverrides } from 'pg';
import { asStoreError, isPgUnavailable } from './pg-errors.ts';

/**
 * How long taking a new connection may last before the call fails as unavailable. Without a
 * bound, a server that drops packets (rather than refusing) would hold every send forever.
 */
export const PG_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Serialises migrations across every Ferry process on one database: a constant key for
 * `pg_advisory_xact_lock` ('Ferr' in ASCII), held until each migration's transaction ends.
 */
const MIGRATION_LOCK_KEY = 0x46657272;

/** Schema versions, applied in order; `schema_migrations` records which ones a database has. */
export const PG_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'messages and accounts',
    // The schema of sqlite-db.ts as it stands after its migrations. Times are milliseconds
    // since the epoch and seqs only grow, so both are bigint.
    sql: `
      CREATE TABLE rooms (
        room text PRIMARY KEY,
        last_seq bigint NOT NULL,
        last_ts bigint NOT NULL
      );
      CREATE TABLE messages (
        id text PRIMARY KEY,
        room text NOT NULL,
        seq bigint NOT NULL,
        ts bigint NOT NULL,
        author_id text NOT NULL,
        author text NOT NULL,
        body text NOT NULL,
        UNIQUE (room, seq)
      );
      CREATE TABLE users (
        id text PRIMARY KEY,
        name text NOT NULL,
        created_at bigint NOT NULL,
        -- One sign-up key is one user, even when two requests with it race; NULLs (sign-ups
        -- without a key, retired keys) never collide.
        signup_key_hash text UNIQUE
      );
      CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (id),
        created_at bigint NOT NULL,
        revoked_at bigint
      );
      CREATE TABLE private_rooms (
        room text PRIMARY KEY,
        invite_secret_hash text NOT NULL,
        created_by text NOT NULL REFERENCES users (id),
        created_at bigint NOT NULL
      );
      CREATE TABLE room_members (
        room text NOT NULL,
        user_id text NOT NULL REFERENCES users (id),
        joined_at bigint NOT NULL,
        PRIMARY KEY (room, user_id)
      );`,
  },
  {
    version: 2,
    name: 'ferry_append',
    // One call appends any number of messages to one room: item i is (p_ids[i], p_bodies[i])
    // by (p_author_ids[i], p_authors[i]) at p_nows[i]. The arrays are per item, not one
    // author and one clock per call, because a node sends the batches of several senders
    // to one room together (see pg-store.ts). One row per item comes back, in input order.
    //
    // The room's counter row, locked FOR UPDATE, serialises the room's appends across every
    // process; the dedup check comes after the lock, so a retry racing its original on
    // another node sees it. READ COMMITTED gives each statement a fresh snapshot, so what
    // the previous lock holder committed is visible once the lock is ours.
    sql: `
      CREATE FUNCTION ferry_append(
        p_room text,
        p_ids text[],
        p_bodies text[],
        p_author_ids text[],
        p_authors text[],
        p_nows bigint[]
      ) RETURNS TABLE (
        idx integer,
        outcome text,
        stored_seq bigint,
        stored_ts bigint,
        stored_author_id text,
        stored_author text,
        stored_body text
      ) LANGUAGE plpgsql AS $fn$
      DECLARE
        n integer := coalesce(cardinality(p_ids), 0);
        first_seq bigint;
        last_seq_now bigint;
        last_ts_now bigint;
        next_ts bigint;
        found_message messages%ROWTYPE;
      BEGIN
        IF coalesce(cardinality(p_bodies), 0) <> n OR coalesce(cardinality(p_author_ids), 0) <> n
          OR coalesce(cardinality(p_authors), 0) <> n OR coalesce(cardinality(p_nows), 0) <> n THEN
          RAISE EXCEPTION 'ferry_append: the item arrays differ in length';
        END IF;
        -- Racing first appends to a new room: one inserts the row, the other waits for it.
        INSERT INTO rooms (room, last_seq, last_ts) VALUES (p_room, 0, 0)
          ON CONFLICT (room) DO NOTHING;
        SELECT r.last_seq, r.last_ts INTO STRICT last_seq_now, last_ts_now
          FROM rooms r WHERE r.room = p_room FOR UPDATE;
        first_seq := last_seq_now;
        FOR i IN 1 .. n LOOP
          idx := i;
          next_ts := greatest(p_nows[i], last_ts_now + 1);
          -- An id stored before, or by a transaction that commits while this one waits on
          -- the index, inserts nothing: never a second copy, never a unique violation.
          INSERT INTO messages (id, room, seq, ts, author_id, author, body)
            VALUES (p_ids[i], p_room, last_seq_now + 1, next_ts, p_author_ids[i], p_authors[i],
                    p_bodies[i])
            ON CONFLICT (id) DO NOTHING;
          IF FOUND THEN
            last_seq_now := last_seq_now + 1;
            last_ts_now := next_ts;
            outcome := 'accepted';
            stored_seq := last_seq_now;
            stored_ts := next_ts;
            stored_author_id := p_author_ids[i];
            stored_author := p_authors[i];
            stored_body := p_bodies[i];
          ELSE
            SELECT * INTO STRICT found_message FROM messages m WHERE m.id = p_ids[i];
            IF found_message.room = p_room AND found_message.author_id = p_author_ids[i] THEN
              outcome := 'duplicate';
              stored_seq := found_message.seq;
              stored_ts := found_message.ts;
              stored_author_id := found_message.author_id;
              stored_author := found_message.author;
              stored_body := found_message.body;
            ELSE
              -- Another author's or room's id: nothing about it leaves the database.
              outcome := 'conflict';
              stored_seq := NULL;
              stored_ts := NULL;
              stored_author_id := NULL;
              stored_author := NULL;
              stored_body := NULL;
            END IF;
          END IF;
          RETURN NEXT;
        END LOOP;
        IF last_seq_now <> first_seq THEN
          UPDATE rooms r SET last_seq = last_seq_now, last_ts = last_ts_now WHERE r.room = p_room;
        END IF;
      END
      $fn$;`,
  },
  {
    version: 3,
    name: 'edits and deletes',
    // An operation is a row of its room's log (kind, target) at its own seq; the message it
    // targets keeps its latest state (body, edited, deleted, version), as in sqlite-db.ts.
    //
    // ferry_append stays as it was: during a rolling deploy the processes of the previous
    // release still call it, and the column defaults make its rows plain messages. Only
    // ferry_append_log knows about operations, so a change of signature is a new function.
    //
    // ferry_append_log is ferry_append with, per item, p_kinds[i] ('message', 'edit' or
    // 'delete') and p_targets[i] (NULL for a message). The same room lock that keeps seqs
    // gap-free also serialises the checks of an operation with the changes to its target:
    // a target in this room is only ever written under that lock.
    sql: `
      ALTER TABLE messages
        ADD COLUMN kind text NOT NULL DEFAULT 'message',
        ADD COLUMN target text,
        ADD COLUMN version bigint,
        ADD COLUMN edited boolean NOT NULL DEFAULT false,
        ADD COLUMN deleted boolean NOT NULL DEFAULT false;
      -- A delete erases the bodies of its message's edits, found by their target.
      CREATE INDEX messages_by_target ON messages (target) WHERE target IS NOT NULL;
      CREATE FUNCTION ferry_append_log(
        p_room text,
        p_ids text[],
        p_kinds text[],
        p_targets text[],
        p_bodies text[],
        p_author_ids text[],
        p_authors text[],
        p_nows bigint[]
      ) RETURNS TABLE (
        idx integer,
        outcome text,
        refusal text,
        stored_seq bigint,
        stored_ts bigint,
        stored_author_id text,
        stored_author text,
        stored_body text,
        stored_kind text,
        stored_target text,
        stored_version bigint,
        stored_edited boolean,
        stored_deleted boolean
      ) LANGUAGE plpgsql AS $fn$
      DECLARE
        n integer := coalesce(cardinality(p_ids), 0);
        first_seq bigint;
        last_seq_now bigint;
        last_ts_now bigint;
        next_ts bigint;
        item_kind text;
        item_target text;
        item_body text;
        known boolean;
        inserted boolean;
        found_message messages%ROWTYPE;
        target_message messages%ROWTYPE;
      BEGIN
        IF coalesce(cardinality(p_kinds), 0) <> n OR coalesce(cardinality(p_targets), 0) <> n
          OR coalesce(cardinality(p_bodies), 0) <> n OR coalesce(cardinality(p_author_ids), 0) <> n
          OR coalesce(cardinality(p_authors), 0) <> n OR coalesce(cardinality(p_nows), 0) <> n THEN
          RAISE EXCEPTION 'ferry_append_log: the item arrays differ in length';
        END IF;
        -- Racing first appends to a new room: one inserts the row, the other waits for it.
        INSERT INTO rooms (room, last_seq, last_ts) VALUES (p_room, 0, 0)
          ON CONFLICT (room) DO NOTHING;
        SELECT r.last_seq, r.last_ts INTO STRICT last_seq_now, last_ts_now
          FROM rooms r WHERE r.room = p_room FOR UPDATE;
        first_seq := last_seq_now;
        FOR i IN 1 .. n LOOP
          idx := i;
          item_kind := p_kinds[i];
          IF item_kind IS NULL OR item_kind NOT IN ('message', 'edit', 'delete') THEN
            RAISE EXCEPTION 'ferry_append_log: item % has the unknown kind %', i, item_kind;
          END IF;
          item_target := CASE WHEN item_kind = 'message' THEN NULL ELSE p_targets[i] END;
          item_body := CASE WHEN item_kind = 'delete' THEN '' ELSE p_bodies[i] END;
          refusal := NULL;
          known := false;
          inserted := false;
          IF item_kind <> 'message' THEN
            -- A resent operation answers what it did the first time, even one that would
            -- now be refused (an edit of a message deleted since): dedup comes first.
            PERFORM 1 FROM messages m WHERE m.id = p_ids[i];
            known := FOUND;
            IF NOT known THEN
              SELECT * INTO target_message FROM messages m WHERE m.id = item_target;
              -- Another room's message is as absent as one never stored: nothing leaks.
              IF NOT FOUND OR target_message.room <> p_room OR target_message.kind <> 'message' THEN
                refusal := 'not_found';
              ELSIF target_message.author_id <> p_author_ids[i] THEN
                refusal := 'not_author';
              ELSIF item_kind = 'edit' AND target_message.deleted THEN
                refusal := 'message_deleted';
              END IF;
            END IF;
          END IF;
          IF refusal IS NULL AND NOT known THEN
            next_ts := greatest(p_nows[i], last_ts_now + 1);
            -- An id stored before, or by a transaction that commits while this one waits on
            -- the index (another room's, which this room's lock does not hold back), inserts
            -- nothing: never a second copy, never a unique violation.
            INSERT INTO messages (id, room, seq, ts, author_id, author, body, kind, target)
              VALUES (p_ids[i], p_room, last_seq_now + 1, next_ts, p_author_ids[i], p_authors[i],
                      item_body, item_kind, item_target)
              ON CONFLICT (id) DO NOTHING;
            inserted := FOUND;
          END IF;
          IF refusal IS NOT NULL THEN
            outcome := 'refused';
            stored_seq := NULL;
            stored_ts := NULL;
            stored_author_id := NULL;
            stored_author := NULL;
            stored_body := NULL;
            stored_kind := NULL;
            stored_target := NULL;
            stored_version := NULL;
            stored_edited := NULL;
            stored_deleted := NULL;
          ELSIF inserted THEN
            last_seq_now := last_seq_now + 1;
            last_ts_now := next_ts;
            IF item_kind = 'edit' THEN
              UPDATE messages m SET body = item_body, edited = true, version = last_seq_now
                WHERE m.id = item_target;
            ELSIF item_kind = 'delete' AND NOT target_message.deleted THEN
              -- The message and every edit of it: no body it ever had is left.
              UPDATE messages m SET body = '', deleted = true,
                  version = CASE WHEN m.id = item_target THEN last_seq_now ELSE m.version END
                WHERE m.id = item_target OR (m.target = item_target AND m.kind = 'edit');
            END IF;
            outcome := 'accepted';
            stored_seq := last_seq_now;
            stored_ts := next_ts;
            stored_author_id := p_author_ids[i];
            stored_author := p_authors[i];
            stored_body := item_body;
            stored_kind := item_kind;
            stored_target := item_target;
            stored_version := NULL;
            stored_edited := false;
            stored_deleted := false;
          ELSE
            SELECT * INTO STRICT found_message FROM messages m WHERE m.id = p_ids[i];
            IF found_message.room = p_room AND found_message.author_id = p_author_ids[i] THEN
              -- The entry as it stands now: an operation or message since may have changed it.
              outcome := 'duplicate';
              stored_seq := found_message.seq;
              stored_ts := found_message.ts;
              stored_author_id := found_message.author_id;
              stored_author := found_message.author;
              stored_body := found_message.body;
              stored_kind := found_message.kind;
              stored_target := found_message.target;
              stored_version := found_message.version;
              stored_edited := found_message.edited;
              stored_deleted := found_message.deleted;
            ELSE
              -- Another author's or room's id: nothing about it leaves the database.
              outcome := 'conflict';
              stored_seq := NULL;
              stored_ts := NULL;
              stored_author_id := NULL;
              stored_author := NULL;
              stored_body := NULL;
              stored_kind := NULL;
              stored_target := NULL;
              stored_version := NULL;
              stored_edited := NULL;
              stored_deleted := NULL;
            END IF;
          END IF;
          RETURN NEXT;
        END LOOP;
        IF last_seq_now <> first_seq THEN
          UPDATE rooms r SET last_seq = last_seq_now, last_ts = last_ts_now WHERE r.room = p_room;
        END IF;
      END
      $fn$;`,
  },
  {
    version: 4,
    name: 'room names and read cursors',
    // As in sqlite-db.ts. The previous release's processes make rooms without a name during
    // a rolling deploy: the default names them. Cursors are read by room, the key's prefix.
    sql: `
      ALTER TABLE private_rooms ADD COLUMN name text NOT NULL DEFAULT 'Private room';
      CREATE TABLE read_cursors (
        room text NOT NULL,
        user_id text NOT NULL,
        delivered_seq bigint NOT NULL,
        read_seq bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (room, user_id),
        CHECK (read_seq <= delivered_seq)
      );`,
  },
];

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * bigint columns (seqs, millisecond times, counts) as numbers rather than node-postgres's
 * default strings: they stay far below 2^53, where a number is exact.
 */
function bigintAsNumber(): TypeOverrides {
  const types = new TypeOverrides();
  types.setTypeParser(20, Number);
  return types;
}

/**
 * A connection pool to the database at `connectionString`. A connection that fails while
 * idle in the pool (a server restart, an administrator's pg_terminate_backend) is reported
 * to `warn` and replaced; without the 'error' listener it would crash the process.
 */
export function openPgPool(
  connectionString: string,
  warn: (line: string) => void = console.warn,
): Pool {
  const pool = new Pool({
    connectionString,
    types: bigintAsNumber(),
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  pool.on('error', (error) => {
    warn(`PostgreSQL: an idle connection failed (${error.message}); the pool will open another`);
  });
  return pool;
}

/** One query on the pool; unavailability rejects as a StoreUnavailableError. */
export async function queryPg<Row extends QueryResultRow>(
  pool: Pool,
  query: QueryConfig,
): Promise<Row[]> {
  try {
    return (await pool.query<Row>(query)).rows;
  } catch (error) {
    throw asStoreError(error);
  }
}

/**
 * Runs `work` in one transaction on one connection: committed when it resolves, rolled back
 * when it throws. Unavailability rejects as a StoreUnavailableError.
 */
export async function inPgTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw asStoreError(error);
  }
  // A checked-out connection that fails between two queries emits 'error', which crashes
  // the process unless someone listens (pool.query listens for itself).
  let broken = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (isPgUnavailable(error)) broken = true;
    if (!broken) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
    }
    throw asStoreError(error);
  } finally {
    client.removeListener('error', onError);
    // A broken connection is closed, not handed to the next caller.
    client.release(broken);
  }
}

/**
 * Brings the database's schema up to date; answers the versions this call applied. Each
 * migration runs in its own transaction under an advisory lock, so processes that start
 * together apply each one exactly once, in order, and a failed migration leaves the
 * database at the version before it.
 */
export async function migratePg(pool: Pool): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of PG_MIGRATIONS) {
    const didApply = await inPgTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query(CREATE_MIGRATIONS_TABLE);
      const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (done.rowCount !== 0) return false;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

/** A pool to `connectionString` over a migrated database; the pool is ended if migrating fails. */
export async function openMigratedPgPool(
  connectionString: string,
  warn: (line: string) => void = console.warn,
): Promise<Pool> {
  const pool = openPgPool(connectionString, warn);
  try {
    await migratePg(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}
