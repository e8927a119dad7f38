import { resolve } from 'node:path';

export interface ServerConfig {
  port: number;
  host: string;
  dbPath: string;
  staticDir: string;
}

function parsePort(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

/** Reads the server's settings from the environment (see README, "Configuration"). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    port: parsePort(env.PORT, 8080),
    host: env.HOST || '0.0.0.0',
    dbPath: resolve(env.FERRY_DB || 'data/ferry.db'),
    staticDir: resolve(env.FERRY_STATIC_DIR || 'dist'),
  };
}
