import { configFromEnv } from './config.ts';
import { createFerryServer } from './ferry-server.ts';
import { SqliteAccountStore } from './store/sqlite-accounts.ts';
import { openSqlite } from './store/sqlite-db.ts';
import { SqliteMessageStore } from './store/sqlite-store.ts';
import { CA_CERT_PATH, prepareHttps } from './tls.ts';

const config = configFromEnv();
// HTTPS=1: service workers need a secure context, which a phone only gets over HTTPS.
const https = config.https ? prepareHttps(config.https) : null;
const db = openSqlite(config.dbPath);
const store = new SqliteMessageStore(db);
const accounts = new SqliteAccountStore(db);
const server = createFerryServer({
  store,
  accounts,
  staticDir: config.staticDir,
  allowedOrigins: config.allowedOrigins,
  messageRate: config.messageRate,
  tls: https?.tls,
  extraRoutes: https?.extraRoutes,
});
const address = await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' ? 'localhost' : address.address;
const scheme = https ? 'https' : 'http';
console.log(`Ferry listening on ${scheme}://${shownHost}:${address.port} (db: ${config.dbPath})`);
if (https && config.host === '0.0.0.0') {
  for (const ip of https.lanAddresses)
    console.log(`  on this network: https://${ip}:${address.port}`);
  const lan = https.lanAddresses[0];
  if (https.extraRoutes && lan) {
    console.log(
      `  first time on a phone: get https://${lan}:${address.port}${CA_CERT_PATH} and trust ` +
        'it (docs/pwa.md, "Try Ferry on a phone")',
    );
  }
}

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
