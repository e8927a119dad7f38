import { resolve } from 'node:path';
import { z } from 'zod';
import { MAX_PACKET_BYTES } from '../shared/limits.ts';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from './flood-limits.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
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
  /** The least severe lines written (`FERRY_LOG_LEVEL`). */
  logLevel: LogLevel;
  /** How long a graceful stop waits for requests in flight (`FERRY_SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs: number;
  /** `GET /metrics` (`FERRY_METRICS`), and the bearer token it asks for if any. */
  metrics: { enabled: boolean; token: string | null };
}

export interface HttpsConfig {
  /** Where the generated local CA and server certificate live (`FERRY_TLS_DIR`), kept private (0700). */
  dir: string;
  /** Your own certificate and key (PEM files), e.g. from mkcert, instead of generating. */
  certFile: string | null;
  keyFile: string | null;
}

/** A variable the environment got wrong; its message names the variable and says why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An empty variable counts as unset, as `FOO= npm start` means "no FOO". */
const blankAsUnset = (raw: unknown) => (raw === '' ? undefined : raw);

interface Range {
  min: number;
  max: number;
  why?: string;
}

/** A whole number in `range`, `fallback` when unset. */
function integer(fallback: number, { min, max, why }: Range) {
  const error = `must be an integer from ${min} to ${max}${why ? ` (${why})` : ''}`;
  return z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error })
      .int({ error })
      .min(min, { error })
      .max(max, { error })
      .default(fallback),
  );
}

/** Any text, `fallback` when unset. */
const text = (fallback: string) => z.preprocess(blankAsUnset, z.string().default(fallback));

/** Optional text. */
const optionalText = () => z.preprocess(blankAsUnset, z.string().optional());

/**
 * A connection URL with one of `protocols`. Its error never repeats the value, which may
 * hold a password: only the protocol it got.
 */
function serviceUrl(protocols: readonly string[], example: string, note = '') {
  const expected = protocols.map((protocol) => `${protocol}//`).join(' or ') + note;
  return z.preprocess(
    blankAsUnset,
    z
      .string()
      .check((ctx) => {
        let url: URL;
        try {
          url = new URL(ctx.value);
        } catch {
          ctx.issues.push({
            code: 'custom',
            input: ctx.value,
            message: `must be a URL like ${example}`,
          });
          return;
        }
        if (!protocols.includes(url.protocol)) {
          ctx.issues.push({
            code: 'custom',
            input: ctx.value,
            message: `must start with ${expected}, got "${url.protocol}//"`,
          });
        }
      })
      .optional(),
  );
}

/** A rate of 0 would hold every sender back for good, and ask clients to wait forever. */
const RATE_RANGE: Range = { min: 1, max: 1e9, why: '0 would stop every sender for good' };
/** A cap of 0 would refuse everyone; each must let at least one through. */
const CAP_RANGE: Range = { min: 1, max: 1e9, why: '0 would refuse every user' };

/** `<prefix>_BURST` and `<prefix>_PER_MINUTE`, defaulting to `fallback`. */
function rate<P extends string>(prefix: P, fallback: RateLimit) {
  return {
    [`${prefix}_BURST`]: integer(fallback.capacity, RATE_RANGE),
    [`${prefix}_PER_MINUTE`]: integer(fallback.refillPerMinute, RATE_RANGE),
  } as Record<`${P}_BURST` | `${P}_PER_MINUTE`, ReturnType<typeof integer>>;
}

const limits = DEFAULT_FLOOD_LIMITS;

/** Every variable the server reads, with its default and range (see README, "Configuration"). */
const environmentSchema = z.object({
  PORT: integer(8080, { min: 0, max: 65_535 }),
  HOST: text('0.0.0.0'),
  FERRY_DB: text('data/ferry.db'),
  FERRY_DATABASE_URL: serviceUrl(['postgres:', 'postgresql:'], 'postgres://user@host:5432/ferry'),
  FERRY_REDIS_URL: serviceUrl(['redis:', 'rediss:'], 'redis://host:6379', ' (TLS)'),
  FERRY_STATIC_DIR: text('dist'),
  FERRY_ALLOWED_ORIGINS: text(''),
  ...rate('FERRY_RATE', DEFAULT_MESSAGE_RATE),
  FERRY_MAX_SOCKETS_PER_USER: integer(limits.maxSocketsPerUser, CAP_RANGE),
  FERRY_MAX_ROOMS_PER_SOCKET: integer(limits.maxRoomsPerSocket, CAP_RANGE),
  FERRY_ROOMS_PER_HOUR: integer(limits.roomsCreatedPerHour, CAP_RANGE),
  ...rate('FERRY_JOIN', limits.joinRate),
  ...rate('FERRY_HISTORY', limits.historyRate),
  ...rate('FERRY_RECEIPT', limits.receiptRate),
  // Below one packet's worth, a socket would wait on output that is only an answer.
  FERRY_MAX_OUTBOUND_BYTES: integer(limits.maxOutboundBytes, {
    min: MAX_PACKET_BYTES,
    max: 1e10,
    why: 'at least one packet must fit',
  }),
  // Shorter, and a phone on a slow link would be cut off mid-page.
  FERRY_OUTBOUND_STALL_MS: integer(limits.outboundStallMs, {
    min: 1_000,
    max: 3_600_000,
    why: 'a slow link needs time to take a page',
  }),
  FERRY_MAX_HTTP_SENDS_PER_USER: integer(limits.maxHttpSendsPerUser, CAP_RANGE),
  ...rate('FERRY_REFUSED_TOKEN', limits.refusedTokenRate),
  HTTPS: text(''),
  FERRY_TLS_DIR: text('data/tls'),
  FERRY_TLS_CERT: optionalText(),
  FERRY_TLS_KEY: optionalText(),
  FERRY_LOG_LEVEL: z.preprocess(
    (raw) => (typeof raw === 'string' && raw !== '' ? raw.toLowerCase() : undefined),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
  // A batch in flight commits in milliseconds; a deploy must not wait on a stuck client.
  FERRY_SHUTDOWN_GRACE_MS: integer(10_000, {
    min: 1_000,
    max: 600_000,
    why: 'one second to ten minutes',
  }),
  FERRY_METRICS: z.preprocess(
    (raw) => (typeof raw === 'string' && raw !== '' ? raw.toLowerCase() : undefined),
    z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  ),
  FERRY_METRICS_TOKEN: z.preprocess(
    blankAsUnset,
    z.string().min(16, { error: 'must be at least 16 characters long' }).optional(),
  ),
});

type Environment = z.output<typeof environmentSchema>;

/** Variables whose value an error must not repeat: they may hold a password or a token. */
const SECRET_VARIABLES = new Set(['FERRY_DATABASE_URL', 'FERRY_REDIS_URL', 'FERRY_METRICS_TOKEN']);

/** One line per wrong variable: its name, what it must be, and (unless secret) what it got. */
function describeIssues(error: z.ZodError, env: NodeJS.ProcessEnv): string {
  const lines = new Map<string, string>();
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? 'the environment');
    if (lines.has(name)) continue; // the first thing wrong with it is enough
    const got = SECRET_VARIABLES.has(name) ? '' : `, got "${env[name]}"`;
    lines.set(name, `${name} ${issue.message}${got}`);
  }
  return [...lines.values()].join('\n');
}

const rateOf = (burst: number, perMinute: number): RateLimit => ({
  capacity: burst,
  refillPerMinute: perMinute,
});

function toConfig(env: Environment): ServerConfig {
  return {
    port: env.PORT,
    host: env.HOST,
    database: env.FERRY_DATABASE_URL
      ? { kind: 'postgres', url: env.FERRY_DATABASE_URL }
      : { kind: 'sqlite', path: resolve(env.FERRY_DB) },
    redisUrl: env.FERRY_REDIS_URL ?? null,
    staticDir: resolve(env.FERRY_STATIC_DIR),
    allowedOrigins: env.FERRY_ALLOWED_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    messageRate: rateOf(env.FERRY_RATE_BURST, env.FERRY_RATE_PER_MINUTE),
    floodLimits: {
      maxSocketsPerUser: env.FERRY_MAX_SOCKETS_PER_USER,
      maxRoomsPerSocket: env.FERRY_MAX_ROOMS_PER_SOCKET,
      roomsCreatedPerHour: env.FERRY_ROOMS_PER_HOUR,
      joinRate: rateOf(env.FERRY_JOIN_BURST, env.FERRY_JOIN_PER_MINUTE),
      historyRate: rateOf(env.FERRY_HISTORY_BURST, env.FERRY_HISTORY_PER_MINUTE),
      receiptRate: rateOf(env.FERRY_RECEIPT_BURST, env.FERRY_RECEIPT_PER_MINUTE),
      maxOutboundBytes: env.FERRY_MAX_OUTBOUND_BYTES,
      outboundStallMs: env.FERRY_OUTBOUND_STALL_MS,
      maxHttpSendsPerUser: env.FERRY_MAX_HTTP_SENDS_PER_USER,
      refusedTokenRate: rateOf(env.FERRY_REFUSED_TOKEN_BURST, env.FERRY_REFUSED_TOKEN_PER_MINUTE),
    },
    https: ['1', 'true'].includes(env.HTTPS.toLowerCase())
      ? {
          dir: resolve(env.FERRY_TLS_DIR),
          certFile: env.FERRY_TLS_CERT ? resolve(env.FERRY_TLS_CERT) : null,
          keyFile: env.FERRY_TLS_KEY ? resolve(env.FERRY_TLS_KEY) : null,
        }
      : null,
    logLevel: env.FERRY_LOG_LEVEL,
    shutdownGraceMs: env.FERRY_SHUTDOWN_GRACE_MS,
    metrics: { enabled: env.FERRY_METRICS === 'on', token: env.FERRY_METRICS_TOKEN ?? null },
  };
}

/**
 * Reads the server's settings from the environment (see README, "Configuration"). Throws a
 * ConfigError naming every variable that is wrong, one a line, and what each must be.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, env));
  return toConfig(parsed.data);
}
