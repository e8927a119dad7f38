import { configFromEnv } from './config.ts';
import { createFerryServer } from './ferry-server.ts';
import { SqliteAccountStore } from './store/sqlite-accounts.ts';
import { openSqlite } from './store/sqlite-db.ts';
import { SqliteMessageStore } from './store/sqlite-store.ts';

const config = configFromEnv();
const db = openSqlite(config.dbPath);
const store = new SqliteMessageStore(db);
const accounts = new SqliteAccountStore(db);
const server = createFerryServer({
  store,
  accounts,
  staticDir: config.staticDir,
  allowedOrigins: config.allowedOrigins,
  messageRate: config.messageRate,
});
const address = await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' ? 'localhost' : address.address;
console.log(`Ferry listening on http://${shownHost}:${address.port} (db: ${config.dbPath})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing connections and the database`);
  await server.close();
  db.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
