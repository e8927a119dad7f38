import { resolve } from 'node:path';
import type { RateLimit } from './token-bucket.ts';
import { DEFAULT_MESSAGE_RATE } from './token-bucket.ts';

export interface ServerConfig {
  port: number;
  host: string;
  dbPath: string;
  staticDir: string;
  allowedOrigins: string[];
  messageRate: RateLimit;
  /** Serve HTTPS (`HTTPS=1`): service workers need it off localhost, e.g. on a phone. */
  https: HttpsConfig | null;
}

export interface HttpsConfig {
  /** Where the generated local CA and server certificate live (`FERRY_TLS_DIR`). */
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

/** Reads the server's settings from the environment (see README, "Configuration"). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    port: parseNumber('PORT', env.PORT, 8080, { min: 0, max: 65_535 }),
    host: env.HOST || '0.0.0.0',
    dbPath: resolve(env.FERRY_DB || 'data/ferry.db'),
    staticDir: resolve(env.FERRY_STATIC_DIR || 'dist'),
    allowedOrigins: (env.FERRY_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    messageRate: {
      capacity: parseNumber(
        'FERRY_RATE_BURST',
        env.FERRY_RATE_BURST,
        DEFAULT_MESSAGE_RATE.capacity,
        RATE_RANGE,
      ),
      refillPerMinute: parseNumber(
        'FERRY_RATE_PER_MINUTE',
        env.FERRY_RATE_PER_MINUTE,
        DEFAULT_MESSAGE_RATE.refillPerMinute,
        RATE_RANGE,
      ),
    },
    https: ['1', 'true'].includes((env.HTTPS ?? '').toLowerCase())
      ? {
          dir: resolve(env.FERRY_TLS_DIR || 'data'),
          certFile: env.FERRY_TLS_CERT ? resolve(env.FERRY_TLS_CERT) : null,
          keyFile: env.FERRY_TLS_KEY ? resolve(env.FERRY_TLS_KEY) : null,
        }
      : null,
  };
}
