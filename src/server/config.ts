import { resolve } from 'node:path';
import { MAX_PACKET_BYTES } from '../shared/limits.ts';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from './flood-limits.ts';
import type { DatabaseConfig } from './store/open-stores.ts';
import type { RateLimit } from './token-bucket.ts';
import { DEFAULT_MESSAGE_RATE } from './token-bucket.ts';

export interface ServerConfig {
  port: number;
  host: string;
  /** Where messages and accounts live: the SQLite file by default, PostgreSQL for scale-out. */
  database: DatabaseConfig;
  /** Redis for the live fan-out between processes (`FERRY_REDIS_URL`); none by default. */
  redisUrl: string | null;
  staticDir: string;
  allowedOrigins: string[];
  messageRate: RateLimit;
  /** Caps on sockets, rooms, joins, history pages, pending output and HTTP sends. */
  floodLimits: FloodLimits;
  /** Serve HTTPS (`HTTPS=1`): service workers need it off localhost, e.g. on a phone. */
  https: HttpsConfig | null;
}

/** A PostgreSQL connection string, or an error that says what is wrong with it. */
function parseDatabaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('FERRY_DATABASE_URL must be a URL like postgres://user@host:5432/ferry');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(
      `FERRY_DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`,
    );
  }
  return raw;
}

/** A Redis connection string, or an error that says what is wrong with it. */
function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('FERRY_REDIS_URL must be a URL like redis://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(
      `FERRY_REDIS_URL must start with redis:// or rediss:// (TLS), got "${url.protocol}//"`,
    );
  }
  return raw;
}

export interface HttpsConfig {
  /** Where the generated local CA and server certificate live (`FERRY_TLS_DIR`), kept private (0700). */
  dir: string;
  /** Your own certificate and key (PEM files), e.g. from mkcert, instead of generating. */
  certFile: string | null;
  keyFile: string | null;
}

function parseNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number; why?: string },
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    const why = range.why ? ` (${range.why})` : '';
    throw new Error(
      `${name} must be an integer from ${range.min} to ${range.max}${why}, got "${raw}"`,
    );
  }
  return value;
}

/** A rate of 0 would hold every sender back for good, and ask clients to wait forever. */
const RATE_RANGE = { min: 1, max: 1e9, why: '0 would stop every sender for good' };

/** A rate from two variables, `<prefix>_BURST` and `<prefix>_PER_MINUTE`. */
function parseRate(env: NodeJS.ProcessEnv, prefix: string, fallback: RateLimit): RateLimit {
  const burst = `${prefix}_BURST`;
  const perMinute = `${prefix}_PER_MINUTE`;
  return {
    capacity: parseNumber(burst, env[burst], fallback.capacity, RATE_RANGE),
    refillPerMinute: parseNumber(perMinute, env[perMinute], fallback.refillPerMinute, RATE_RANGE),
  };
}

/** A cap of 0 would refuse everyone; each must let at least one through. */
const CAP_RANGE = { min: 1, max: 1e9, why: '0 would refuse every user' };

function parseFloodLimits(env: NodeJS.ProcessEnv): FloodLimits {
  const defaults = DEFAULT_FLOOD_LIMITS;
  const cap = (name: string, fallback: number) => parseNumber(name, env[name], fallback, CAP_RANGE);
  return {
    maxSocketsPerUser: cap('FERRY_MAX_SOCKETS_PER_USER', defaults.maxSocketsPerUser),
    maxRoomsPerSocket: cap('FERRY_MAX_ROOMS_PER_SOCKET', defaults.maxRoomsPerSocket),
    roomsCreatedPerHour: cap('FERRY_ROOMS_PER_HOUR', defaults.roomsCreatedPerHour),
    joinRate: parseRate(env, 'FERRY_JOIN', defaults.joinRate),
    historyRate: parseRate(env, 'FERRY_HISTORY', defaults.historyRate),
    maxOutboundBytes: parseNumber(
      'FERRY_MAX_OUTBOUND_BYTES',
      env.FERRY_MAX_OUTBOUND_BYTES,
      defaults.maxOutboundBytes,
      // Below one packet's worth, a socket would wait on output that is only an answer.
      { min: MAX_PACKET_BYTES, max: 1e10, why: 'at least one packet must fit' },
    ),
    outboundStallMs: parseNumber(
      'FERRY_OUTBOUND_STALL_MS',
      env.FERRY_OUTBOUND_STALL_MS,
      defaults.outboundStallMs,
      // Shorter, and a phone on a slow link would be cut off mid-page.
      { min: 1_000, max: 3_600_000, why: 'a slow link needs time to take a page' },
    ),
    maxHttpSendsPerUser: cap('FERRY_MAX_HTTP_SENDS_PER_USER', defaults.maxHttpSendsPerUser),
    refusedTokenRate: parseRate(env, 'FERRY_REFUSED_TOKEN', defaults.refusedTokenRate),
  };
}

/** Reads the server's settings from the environment (see README, "Configuration"). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    port: parseNumber('PORT', env.PORT, 8080, { min: 0, max: 65_535 }),
    host: env.HOST || '0.0.0.0',
    database: env.FERRY_DATABASE_URL
      ? { kind: 'postgres', url: parseDatabaseUrl(env.FERRY_DATABASE_URL) }
      : { kind: 'sqlite', path: resolve(env.FERRY_DB || 'data/ferry.db') },
    redisUrl: env.FERRY_REDIS_URL ? parseRedisUrl(env.FERRY_REDIS_URL) : null,
    staticDir: resolve(env.FERRY_STATIC_DIR || 'dist'),
    allowedOrigins: (env.FERRY_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    messageRate: parseRate(env, 'FERRY_RATE', DEFAULT_MESSAGE_RATE),
    floodLimits: parseFloodLimits(env),
    https: ['1', 'true'].includes((env.HTTPS ?? '').toLowerCase())
      ? {
          dir: resolve(env.FERRY_TLS_DIR || 'data/tls'),
          certFile: env.FERRY_TLS_CERT ? resolve(env.FERRY_TLS_CERT) : null,
          keyFile: env.FERRY_TLS_KEY ? resolve(env.FERRY_TLS_KEY) : null,
        }
      : null,
  };
}
