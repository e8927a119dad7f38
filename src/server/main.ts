import { CA_PAGE_PATH } from './ca-download.ts';
import { ConfigError, configFromEnv, type ServerConfig } from './config.ts';
import { createFerryServer } from './ferry-server.ts';
import { createLogger } from './logger.ts';
import { createRedisRateLimits } from './redis-buckets.ts';
import { createRedisFanout } from './redis-fanout.ts';
import { openStores } from './store/open-stores.ts';
import { prepareHttps } from './tls.ts';

/** The settings, or exit 1 with what is wrong, one variable a line (no stack trace). */
function readConfig(): ServerConfig {
  try {
    return configFromEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(
      `Ferry cannot start: fix these settings (see README, "Configuration"):\n${error.message}`,
    );
    process.exit(1);
  }
}

const config = readConfig();
// JSON lines on stdout (see docs/operations.md, "Logs"); `npm run dev:server` prettifies them.
const logger = createLogger({ level: config.logLevel });
// HTTPS=1: service workers need a secure context, which a phone only gets over HTTPS.
const https = config.https ? prepareHttps(config.https) : null;
const stores = await openStores(config.database, logger);
// FERRY_REDIS_URL: live messages reach the clients of every process sharing the database.
// Not awaited: Redis connects in the background, and the server serves without it.
const fanout = config.redisUrl ? createRedisFanout(config.redisUrl, logger) : null;
// And one budget per user and per address across them; per process while Redis is down.
const sharedLimits = config.redisUrl ? createRedisRateLimits(config.redisUrl, logger) : null;
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
  logger,
  metrics: config.metrics.enabled,
  metricsToken: config.metrics.token,
  // /readyz reports the Redis links and stays 200 without them (docs/operations.md, "Readiness").
  readiness: [fanout?.readiness, sharedLimits?.readiness].filter((check) => check !== undefined),
});
// Broadcasts published while Redis was away may be lost: the clients here fetch them.
fanout?.onRecovered(() => void server.tellRoomHeads());
const address = await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' ? 'localhost' : address.address;
const scheme = https ? 'https' : 'http';
const fanoutNote = fanout ? `, fan-out: ${fanout.description}` : '';
logger.info(
  { port: address.port, db: stores.description, fanout: fanout?.description },
  `Ferry listening on ${scheme}://${shownHost}:${address.port} (db: ${stores.description}${fanoutNote})`,
);
if (https && config.host === '0.0.0.0') {
  for (const ip of https.lanAddresses)
    logger.info(`on this network: https://${ip}:${address.port}`);
  const lan = https.lanAddresses[0];
  if (https.localCa && lan) {
    logger.info(
      `first time on a phone: open https://${lan}:${address.port}${CA_PAGE_PATH} and trust ` +
        'the certificate it offers (docs/pwa.md, "Try Ferry on a phone")',
    );
  }
}
if (https?.localCa) {
  // The phone downloads the CA over a connection it does not trust yet: this line, on the
  // machine's own screen, is what the user checks the download against.
  logger.info(`local CA fingerprint (SHA-256): ${https.localCa.fingerprint}`);
  if (https.localCa.created) {
    logger.info(
      `this local CA is new (in ${config.https?.dir}): phones that trusted an earlier one ` +
        'must trust this one, and should remove the old "Ferry local CA"',
    );
  }
}

/**
 * Share of FERRY_SHUTDOWN_GRACE_MS the requests already received may take to finish; the
 * rest is for closing the database and Redis.
 */
const DRAIN_SHARE = 0.8;

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const graceMs = config.shutdownGraceMs;
  logger.info(
    { signal, graceMs },
    `${signal}: finishing what was received, then closing connections and the database`,
  );
  // The bound holds even when closing hangs (a database that does not answer).
  setTimeout(() => {
    logger.error({ graceMs }, `the stop took longer than ${graceMs} ms: exiting now`);
    process.exit(1);
  }, graceMs).unref();
  const { drained } = await server.shutdown(graceMs * DRAIN_SHARE);
  if (!drained) logger.warn('requests still running at the end of the grace were dropped');
  // After the server: closing it stops the adapter's reads first.
  fanout?.close();
  sharedLimits?.close();
  await stores.close();
  logger.info({ drained }, 'stopped');
  process.exit(drained ? 0 : 1);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
