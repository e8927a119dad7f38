import type { Logger } from '../logger.ts';
import { withoutPassword } from '../redacted-url.ts';
import type { AccountStore } from './account-store.ts';
import type { MessageStore } from './message-store.ts';
import { PgAccountStore } from './pg-accounts.ts';
import { openMigratedPgPool } from './pg-db.ts';
import { PgMessageStore } from './pg-store.ts';
import { SqliteAccountStore } from './sqlite-accounts.ts';
import { openSqlite } from './sqlite-db.ts';
import { SqliteMessageStore } from './sqlite-store.ts';

/** Where messages and accounts live (see config.ts for the environment that picks it). */
export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  /** `FERRY_DATABASE_URL=postgres://…`: several Ferry processes can share it. */
  | { kind: 'postgres'; url: string };

/** The server's two stores over one database, and how to let it go. */
export interface Stores {
  store: MessageStore;
  accounts: AccountStore;
  /** What the startup line says the data is in (never a password). */
  description: string;
  /** Closes both stores, then the database. */
  close(): Promise<void>;
}

/**
 * Opens the configured database, migrated: the SQLite file (the embedded default: `npm
 * start` needs no service), or PostgreSQL when FERRY_DATABASE_URL is set, which several
 * Ferry processes can share. Both stores share one connection (SQLite) or one pool.
 */
export async function openStores(database: DatabaseConfig, log: Logger): Promise<Stores> {
  // What the database layers say: a folder open to others, an idle connection that failed.
  const warn = (line: string) => log.warn(line);
  if (database.kind === 'sqlite') {
    const db = openSqlite(database.path, warn);
    const store = new SqliteMessageStore(db);
    const accounts = new SqliteAccountStore(db);
    return {
      store,
      accounts,
      description: database.path,
      async close() {
        await store.close();
        await accounts.close();
        db.close();
      },
    };
  }
  const pool = await openMigratedPgPool(database.url, warn);
  const store = new PgMessageStore(pool);
  const accounts = new PgAccountStore(pool);
  return {
    store,
    accounts,
    description: withoutPassword(database.url),
    async close() {
      await store.close();
      await accounts.close();
      await pool.end();
    },
  };
}
