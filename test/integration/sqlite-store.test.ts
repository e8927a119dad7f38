import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { tempDir } from '../support/server.ts';
import { runMessageStoreContract } from './message-store.contract.ts';

runMessageStoreContract('SQLite file', async () => {
  const dir = tempDir();
  const path = `${dir.path}/nested/ferry.db`;
  return {
    store: new SqliteMessageStore(path),
    reopen: async () => new SqliteMessageStore(path),
    dispose: async () => dir.dispose(),
  };
});
