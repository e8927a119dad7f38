import { expect, it } from 'vitest';
import { PgAccountStore } from '../../src/server/store/pg-accounts.ts';
import { migratePg, openPgPool, PG_MIGRATIONS } from '../../src/server/store/pg-db.ts';
import { PgMessageStore } from '../../src/server/store/pg-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { connectTo, describeWithPostgres, freshDatabase } from '../support/postgres.ts';

const ALL_VERSIONS = PG_MIGRATIONS.map((migration) => migration.version);

const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

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

  it('brings a database at version 2 with messages to version 3: its messages read as before, the previous release can still append, and they can be edited', async () => {
    const { db, pools } = await databaseWithPools(1);
    const pool = pools[0] as NonNullable<(typeof pools)[number]>;
    const admin = await connectTo(db.url);
    cleanups.push(() => admin.end());
    // The database as the previous release left it: migrations 1 and 2 only.
    await admin.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const migration of PG_MIGRATIONS.filter((m) => m.version <= 2)) {
      await admin.query(migration.sql);
      await admin.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    const oldAppend = (id: string, body: string, now: number) =>
      admin.query(
        'SELECT outcome, stored_seq::int AS seq FROM ferry_append($1, $2, $3, $4, $5, $6)',
        ['a', [id], [body], ['user-u'], ['u'], [now]],
      );
    await oldAppend(id(1), 'before', 10);

    expect(await migratePg(pool)).toEqual(ALL_VERSIONS.filter((version) => version > 2));
    // The same session of the previous release goes on appending after the columns changed.
    const { rows } = await oldAppend(id(2), 'during the deploy', 20);
    expect(rows).toEqual([{ outcome: 'accepted', seq: 2 }]);

    const store = new PgMessageStore(pool);
    const [edit] = await store.appendBatch(
      'a',
      { id: 'user-u', name: 'u' },
      [{ id: id(3), kind: 'edit', target: id(2), body: 'edited' }],
      30,
    );
    expect(edit).toMatchObject({ status: 'accepted', message: { seq: 3, kind: 'edit' } });
    expect(await store.pageAfter('a', 0, 10)).toEqual([
      { id: id(1), room: 'a', seq: 1, ts: 10, authorId: 'user-u', author: 'u', body: 'before' },
      {
        id: id(2),
        room: 'a',
        seq: 2,
        ts: 20,
        authorId: 'user-u',
        author: 'u',
        body: 'edited',
        edited: true,
        version: 3,
      },
      edit?.status === 'accepted' ? edit.message : null,
    ]);
  });

  it('brings a database at version 3 to version 4: rooms made before names, and by the previous release during the deploy, are named by default', async () => {
    const { db, pools } = await databaseWithPools(1);
    const pool = pools[0] as NonNullable<(typeof pools)[number]>;
    const admin = await connectTo(db.url);
    cleanups.push(() => admin.end());
    await admin.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const migration of PG_MIGRATIONS.filter((m) => m.version <= 3)) {
      await admin.query(migration.sql);
      await admin.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    // What the previous release's createPrivateRoom writes: no name.
    const oldCreate = (room: string) =>
      admin.query(
        `INSERT INTO private_rooms (room, invite_secret_hash, created_by, created_at)
         VALUES ($1, 'hash', 'owner', 1)`,
        [room],
      );
    await admin.query("INSERT INTO users (id, name, created_at) VALUES ('owner', 'owner', 1)");
    await oldCreate('before');

    expect(await migratePg(pool)).toEqual(ALL_VERSIONS.filter((version) => version > 3));
    await oldCreate('during');
    const accounts = new PgAccountStore(pool);
    expect(await accounts.roomAccess('before')).toMatchObject({ name: 'Private room' });
    expect(await accounts.roomAccess('during')).toMatchObject({ name: 'Private room' });
  });
});
