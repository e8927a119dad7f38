import { describe, expect, it } from 'vitest';
import { DB_VERSION } from '../../src/client/local-db.ts';
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
});
