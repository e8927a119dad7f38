import pg from 'pg';
import { PgMessageStore } from '../../src/server/store/pg-store.ts';
import { type FreshDatabase, freshDatabase } from '../support/postgres.ts';
import type { ChaosHistory, MemberView } from './checker.ts';
import type { RoomHead } from './convergence.ts';
import { readServerRooms, type StoredRoom } from './observations.ts';

/**
 * The harness's own PostgreSQL connections say who they are, so that the fault that
 * terminates the app's connections spares them.
 */
const HARNESS_APPLICATION = 'ferry-chaos-harness';

/**
 * The cluster's PostgreSQL side: a fresh database of the run's own, what the run reads of
 * it (on connections of its own), and the fault on the app's connections to it.
 */
export class ClusterDatabase {
  readonly #database: FreshDatabase;
  readonly #harness: pg.Pool;

  private constructor(database: FreshDatabase) {
    this.#database = database;
    this.#harness = new pg.Pool({
      connectionString: database.url,
      application_name: HARNESS_APPLICATION,
      max: 2,
    });
    // A harness connection lost with PostgreSQL is replaced at the next query.
    this.#harness.on('error', () => {});
  }

  /** Creates an empty database (it fails loudly if PostgreSQL is unreachable). */
  static async create(): Promise<ClusterDatabase> {
    return new ClusterDatabase(await freshDatabase());
  }

  /** FERRY_DATABASE_URL for the nodes. */
  get url(): string {
    return this.#database.url;
  }

  /** What is stored per room now (see StoredRoom). */
  async storedCounts(): Promise<ReadonlyMap<string, StoredRoom>> {
    const { rows } = await this.#harness.query<StoredRoom & { room: string }>(
      `SELECT room, count(*)::int AS messages, sum(coalesce(version, seq))::float8 AS versions
       FROM messages WHERE kind = 'message' GROUP BY room`,
    );
    return new Map(rows.map(({ room, messages, versions }) => [room, { messages, versions }]));
  }

  /** Each room's newest seq now, and the seqs in its log that hold an edit or a delete. */
  async heads(): Promise<ReadonlyMap<string, RoomHead>> {
    // One snapshot for both, so that no operation below a head is missed.
    const { rows } = await this.#harness.query<{
      room: string;
      seq: number;
      target: string | null;
    }>(
      `SELECT room, last_seq::int AS seq, NULL AS target FROM rooms
       UNION ALL
       SELECT room, seq::int, target FROM messages WHERE kind <> 'message'`,
    );
    const heads = new Map<string, { head: number; ops: Map<number, string> }>();
    const of = (room: string) => {
      const head = heads.get(room) ?? { head: 0, ops: new Map<number, string>() };
      heads.set(room, head);
      return head;
    };
    for (const row of rows) {
      if (row.target === null) of(row.room).head = row.seq;
      else of(row.room).ops.set(row.seq, row.target);
    }
    return heads;
  }

  /**
   * `pg_terminate_backend` on every connection to the database but the harness's: the
   * nodes' pools, idle or mid-query. Answers how many were terminated.
   */
  async terminateAppConnections(): Promise<number> {
    const { rows } = await this.#harness.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND application_name <> $1`,
      [HARNESS_APPLICATION],
    );
    return rows.filter((row) => row.terminated).length;
  }

  /** Every room of `views` as the store holds it, read through the app's own store. */
  async readRooms(views: ReadonlyMap<string, MemberView[]>): Promise<ChaosHistory['rooms']> {
    const store = await PgMessageStore.open(this.#database.url, () => {});
    try {
      return await readServerRooms(store, views);
    } finally {
      await store.close();
    }
  }

  /** Lets the harness's connections go and drops the database. */
  async drop(): Promise<void> {
    await this.#harness.end().catch(() => {});
    await this.#database.drop();
  }
}
