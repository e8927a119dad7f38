import { expect, it } from 'vitest';
import { migratePg, openPgPool, PG_MIGRATIONS } from '../../src/server/store/pg-db.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { connectTo, describeWithPostgres, freshDatabase } from '../support/postgres.ts';

const ALL_VERSIONS = PG_MIGRATIONS.map((migration) => migration.version);

describeWithPostgres('PostgreSQL migrations', () => {
  const cleanups = cleanupsAfterEach();

  /** A fresh, empty database and `count` pools to it, as if from as many processes. */
  async function databaseWithPools(count: number) {
    const db = await freshDatabase();
    const pools = Array.from({ length: count }, () => openPgPool(db.url));
    cleanups.push(db.drop, ...pools.map((pool) => () => pool.end()));
    return { db, pools };
  }

  it('applies each migration once when four pools (as from four processes) migrate one database at once', async () => {
    const { db, pools } = await databaseWithPools(4);
    const applied = await Promise.all(pools.map((pool) => migratePg(pool)));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(ALL_VERSIONS);
    const admin = await connectTo(db.url);
    cleanups.push(() => admin.end());
    const { rows } = await admin.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(ALL_VERSIONS);
  });

  it('applies nothing to a database that is up to date', async () => {
    const { pools } = await databaseWithPools(1);
    for (const pool of pools) {
      expect(await migratePg(pool)).toEqual(ALL_VERSIONS);
      expect(await migratePg(pool)).toEqual([]);
    }
  });
});
