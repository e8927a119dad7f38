import { configFromEnv } from './config.ts';
import { createFerryServer } from './ferry-server.ts';
import { SqliteMessageStore } from './store/sqlite-store.ts';

const config = configFromEnv();
const store = new SqliteMessageStore(config.dbPath);
const server = createFerryServer({ store, staticDir: config.staticDir });
const address = await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' ? 'localhost' : address.address;
console.log(`Ferry listening on http://${shownHost}:${address.port} (db: ${config.dbPath})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing connections and the database`);
  await server.close();
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
