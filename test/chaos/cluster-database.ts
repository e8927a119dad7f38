import pg from 'pg';
import { PgMessageStore } from '../../src/server/store/pg-store.ts';
import { type FreshDatabase, freshDatabase } from '../support/postgres.ts';
import type { ChaosHistory, MemberView } from './checker.ts';
import { readServerRooms } from './observations.ts';

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

  /** Messages stored per room now. */
  async storedCounts(): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.#harness.query<{ room: string; n: number }>(
      'SELECT room, count(*)::int AS n FROM messages GROUP BY room',
    );
    return new Map(rows.map((row) => [row.room, row.n]));
  }

  /** Each room's newest seq now. */
  async heads(): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.#harness.query<{ room: string; head: number }>(
      'SELECT room, last_seq::int AS head FROM rooms',
    );
    return new Map(rows.map((row) => [row.room, row.head]));
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
