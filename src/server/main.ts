import { CA_PAGE_PATH } from './ca-download.ts';
import { configFromEnv } from './config.ts';
import { createFerryServer } from './ferry-server.ts';
import { createRedisRateLimits } from './redis-buckets.ts';
import { createRedisFanout } from './redis-fanout.ts';
import { openStores } from './store/open-stores.ts';
import { prepareHttps } from './tls.ts';

const config = configFromEnv();
// HTTPS=1: service workers need a secure context, which a phone only gets over HTTPS.
const https = config.https ? prepareHttps(config.https) : null;
const stores = await openStores(config.database);
// FERRY_REDIS_URL: live messages reach the clients of every process sharing the database.
// Not awaited: Redis connects in the background, and the server serves without it.
const fanout = config.redisUrl ? createRedisFanout(config.redisUrl) : null;
// And one budget per user and per address across them; per process while Redis is down.
const sharedLimits = config.redisUrl ? createRedisRateLimits(config.redisUrl) : null;
const server = createFerryServer({
  store: stores.store,
  accounts: stores.accounts,
  staticDir: config.staticDir,
  allowedOrigins: config.allowedOrigins,
  messageRate: config.messageRate,
  floodLimits: config.floodLimits,
  tls: https?.tls,
  extraRoutes: https?.localCa?.routes,
  adapter: fanout?.adapter,
  rateBuckets: sharedLimits?.buckets,
});
// Broadcasts published while Redis was away may be lost: the clients here fetch them.
fanout?.onRecovered(() => void server.tellRoomHeads());
const address = await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' ? 'localhost' : address.address;
const scheme = https ? 'https' : 'http';
const fanoutNote = fanout ? `, fan-out: ${fanout.description}` : '';
console.log(
  `Ferry listening on ${scheme}://${shownHost}:${address.port} (db: ${stores.description}${fanoutNote})`,
);
if (https && config.host === '0.0.0.0') {
  for (const ip of https.lanAddresses)
    console.log(`  on this network: https://${ip}:${address.port}`);
  const lan = https.lanAddresses[0];
  if (https.localCa && lan) {
    console.log(
      `  first time on a phone: open https://${lan}:${address.port}${CA_PAGE_PATH} and trust ` +
        'the certificate it offers (docs/pwa.md, "Try Ferry on a phone")',
    );
  }
}
if (https?.localCa) {
  // The phone downloads the CA over a connection it does not trust yet: this line, on the
  // machine's own screen, is what the user checks the download against.
  console.log(`  local CA fingerprint (SHA-256): ${https.localCa.fingerprint}`);
  if (https.localCa.created) {
    console.log(
      `  this local CA is new (in ${config.https?.dir}): phones that trusted an earlier one ` +
        'must trust this one, and should remove the old "Ferry local CA"',
    );
  }
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing connections and the database`);
  await server.close();
  // After the server: closing it stops the adapter's reads first.
  fanout?.close();
  sharedLimits?.close();
  await stores.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
