import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import {
  createFerryServer,
  type FerryServer,
  type FerryServerOptions,
} from '../../src/server/ferry-server.ts';
import { type Logger, silentLogger } from '../../src/server/logger.ts';
import type { AccountStore } from '../../src/server/store/account-store.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import { SqliteAccountStore } from '../../src/server/store/sqlite-accounts.ts';
import { openSqlite } from '../../src/server/store/sqlite-db.ts';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';

/** A temporary folder removed by `dispose`. */
export function tempDir(prefix = 'ferry-test-'): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestServer {
  url: string;
  port: number;
  store: MessageStore;
  accounts: AccountStore;
  server: FerryServer;
  /** Stops accepting and drops every client; the SQLite file stays. */
  stop(): Promise<void>;
  /** Starts again on the same port over the same SQLite file. */
  restart(): Promise<void>;
}

export interface TestServerOptions {
  dbPath: string;
  /** 0 picks a free port. */
  port?: number;
  /** Wraps the store, e.g. to inject faults after a commit. */
  wrapStore?: (store: MessageStore, server: () => FerryServer) => MessageStore;
  /** Wraps the accounts, e.g. to slow sign-ups down or make a lookup fail. */
  wrapAccounts?: (accounts: AccountStore) => AccountStore;
  /** Where the server logs (see log-capture.ts); nowhere when omitted. */
  logger?: Logger;
  /** Anything else for createFerryServer (rate limits, origins, ...). */
  serverOptions?: Partial<FerryServerOptions>;
}

/** A real Ferry server (HTTP + socket.io + SQLite) on an ephemeral 127.0.0.1 port. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  let db: Database.Database;
  let store: MessageStore;
  let accounts: AccountStore;
  let server: FerryServer;
  let port = options.port ?? 0;

  const boot = async () => {
    db = openSqlite(options.dbPath);
    const sqlite = new SqliteMessageStore(db);
    store = options.wrapStore ? options.wrapStore(sqlite, () => server) : sqlite;
    const sqliteAccounts = new SqliteAccountStore(db);
    accounts = options.wrapAccounts ? options.wrapAccounts(sqliteAccounts) : sqliteAccounts;
    server = createFerryServer({
      store,
      accounts,
      logger: options.logger ?? silentLogger,
      ...options.serverOptions,
    });
    port = (await server.listen(port, '127.0.0.1')).port;
  };
  await boot();

  const handle: TestServer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get store() {
      return store;
    },
    get accounts() {
      return accounts;
    },
    get server() {
      return server;
    },
    async stop() {
      await server.close();
      db.close();
    },
    async restart() {
      await boot();
    },
  };
  return handle;
}

/** A port that nothing listens on right now (taken and released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `store` with some of its methods replaced (the replacements may call the originals). */
export function withStoreOverrides(
  store: MessageStore,
  overrides: Partial<MessageStore>,
): MessageStore {
  return {
    appendBatch: (...args) => store.appendBatch(...args),
    storedIds: (ids) => store.storedIds(ids),
    pageAfter: (...args) => store.pageAfter(...args),
    pageBefore: (...args) => store.pageBefore(...args),
    latestSeq: (room) => store.latestSeq(room),
    latestSeqs: (rooms) => store.latestSeqs(rooms),
    setCursors: (...args) => store.setCursors(...args),
    receiptsFor: (room, userId) => store.receiptsFor(room, userId),
    count: (room) => store.count(room),
    ping: () => store.ping(),
    close: () => store.close(),
    ...overrides,
  };
}

/** `store` with its `appendBatch` replaced by `append` (which may call the original). */
export function withAppend(store: MessageStore, append: MessageStore['appendBatch']): MessageStore {
  return withStoreOverrides(store, { appendBatch: append });
}

/** The store with `afterAppend` run after each committed batch, before its ack is sent. */
export function withAfterAppend(store: MessageStore, afterAppend: () => void): MessageStore {
  return withAppend(store, async (...args) => {
    const outcomes = await store.appendBatch(...args);
    afterAppend();
    return outcomes;
  });
}

/**
 * `accounts` with `before` run ahead of every call to `method`: it may wait (a slow
 * server) or reject (a failing one), and then the real method runs.
 */
export function beforeAccounts(
  accounts: AccountStore,
  method: keyof AccountStore,
  before: () => Promise<void>,
): AccountStore {
  return new Proxy(accounts, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        await before();
        return value.apply(target, args);
      };
    },
  });
}
