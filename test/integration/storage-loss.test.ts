import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { DB_VERSION, NewerDatabaseError } from '../../src/client/local-db.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('a tab whose database is taken away', () => {
  const cleanups = cleanupsAfterEach();

  it('stops syncing, says why, and refuses new messages when a newer version upgrades the database', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    const dbName = deviceName('alice');
    let told = 0;
    const alice = await openDevice(server.url, dbName, {
      name: 'alice',
      room: 'lobby',
      onStorageVersionChange: () => {
        told += 1;
      },
    });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice to connect', () => alice.engine.connection.status === 'connected');

    // Another tab, running a newer version of the app, opens the database at its version.
    const upgrade = indexedDB.open(dbName, DB_VERSION + 1);
    await new Promise((resolve, reject) => {
      upgrade.onsuccess = resolve;
      upgrade.onerror = () => reject(upgrade.error);
    });
    upgrade.result.close();

    expect(told).toBe(1);
    expect(alice.engine.storageLoss).toBe('version_change');
    expect(alice.engine.connection.status).not.toBe('connected');
    await expect(alice.engine.send('lobby', 'into the void')).rejects.toThrow(/reload/);
  });

  it('refuses a database saved by a newer version as such, and leaves its unsent messages alone', async () => {
    const dbName = deviceName('rolled-back');
    // A newer Ferry saved this device's data, with a message still unsent, at its version.
    await new Promise<void>((resolve, reject) => {
      const newer = indexedDB.open(dbName, DB_VERSION + 1);
      newer.onupgradeneeded = () => {
        newer.result.createObjectStore('outbox', { autoIncrement: true }).add({ body: 'unsent' });
      };
      newer.onsuccess = () => {
        newer.result.close();
        resolve();
      };
      newer.onerror = () => reject(newer.error);
    });

    // This, older, copy of the app is served again (a rollback).
    const opening = Engine.create({
      url: 'http://127.0.0.1:9',
      dbName,
      connectivity: { isOnline: () => false, subscribe: () => () => {} },
    });
    await expect(opening).rejects.toBeInstanceOf(NewerDatabaseError);

    const kept = await new Promise<IDBDatabase>((resolve, reject) => {
      const reopen = indexedDB.open(dbName);
      reopen.onsuccess = () => resolve(reopen.result);
      reopen.onerror = () => reject(reopen.error);
    });
    expect(kept.version).toBe(DB_VERSION + 1);
    const unsent = await new Promise((resolve) => {
      const count = kept.transaction('outbox').objectStore('outbox').count();
      count.onsuccess = () => resolve(count.result);
    });
    kept.close();
    expect(unsent).toBe(1);
  });
});

describe('a newer version upgrading the database beside older connections', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  /** local-db.ts as a test build with VITE_FERRY_TEST_DB_VERSION_BUMP=1 sees it. */
  async function newerLocalDb(): Promise<typeof import('../../src/client/local-db.ts')> {
    vi.stubEnv('VITE_FERRY_TEST_DB_VERSION_BUMP', '1');
    vi.resetModules();
    return import('../../src/client/local-db.ts');
  }

  it('opens one version higher in a test build, and only there', async () => {
    const newer = await newerLocalDb();
    expect(newer.DB_VERSION).toBe(DB_VERSION + 1);
    vi.stubEnv('VITE_FERRY_TEST_DB_VERSION_BUMP', 'yes');
    vi.resetModules();
    const { DB_VERSION: unbumped } = await import('../../src/client/local-db.ts');
    expect(unbumped).toBe(DB_VERSION);
  });

  it('reports a blocked upgrade while an older connection holds on, and opens once it lets go', async () => {
    const dbName = deviceName('blocked');
    // An older tab that never lets go: a Ferry from before tabs closed on `versionchange`.
    const older = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(dbName, DB_VERSION);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const { openFerryDb, DB_VERSION: newerVersion } = await newerLocalDb();
    let blocked = 0;
    const opening = openFerryDb(dbName, {
      onBlocked: () => {
        blocked += 1;
      },
    });
    await waitFor('the upgrade to be reported blocked', () => blocked > 0);

    older.close();
    const db = await opening;
    expect(db.version).toBe(newerVersion);
    expect(blocked).toBe(1);
    db.close();
  });

  it('is not blocked by an older Ferry: it lets go at once and is told why', async () => {
    const dbName = deviceName('lets-go');
    const { openFerryDb: openOlder } = await import('../../src/client/local-db.ts');
    let toldOlder = 0;
    const older = await openOlder(dbName, {
      onVersionChange: () => {
        toldOlder += 1;
      },
    });
    const { openFerryDb } = await newerLocalDb();
    let blocked = 0;
    const db = await openFerryDb(dbName, {
      onBlocked: () => {
        blocked += 1;
      },
    });
    expect(toldOlder).toBe(1);
    expect(blocked).toBe(0);
    db.close();
    older.close();
  });
});
