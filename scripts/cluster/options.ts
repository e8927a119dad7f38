import { parseArgs } from 'node:util';

/** What `npm run cluster` starts, from its flags and the environment. */
export interface ClusterOptions {
  /** How many Ferry processes. */
  nodes: number;
  /** Node 1's port; node k listens on `firstPort + k - 1`. */
  firstPort: number;
  /** HOST for every node ('' for main.ts's default, every interface). */
  host: string;
  databaseUrl: string;
  redisUrl: string;
}

export const DEFAULT_NODES = 3;
export const DEFAULT_FIRST_PORT = 8080;
/** The machine's own PostgreSQL, as CI and the tests expect it (trust auth, user postgres). */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ferry';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** A local trial on one machine: more processes than this only fight over its cores. */
const MAX_NODES = 32;

export const USAGE =
  'usage: npm run cluster [-- --nodes N]   (or FERRY_CLUSTER_NODES=N; first port: PORT, default 8080)';

/**
 * Reads the flags and the environment; throws an error that names the bad setting. A flag
 * wins over its variable, and a variable set to '' counts as unset, as in config.ts.
 */
export function clusterOptions(args: readonly string[], env: NodeJS.ProcessEnv): ClusterOptions {
  // parseArgs refuses unknown flags and stray arguments: a typo must not start 3 nodes.
  const { values } = parseArgs({
    args: [...args],
    options: { nodes: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const nodes = wholeNumber(
    values.nodes === undefined ? 'FERRY_CLUSTER_NODES' : '--nodes',
    values.nodes ?? env.FERRY_CLUSTER_NODES,
    DEFAULT_NODES,
    1,
    MAX_NODES,
  );
  // Port 0 would put each node wherever the kernel likes: nothing to print in advance.
  const firstPort = wholeNumber(
    'PORT',
    env.PORT,
    DEFAULT_FIRST_PORT,
    1,
    65_536 - nodes,
    `${nodes} consecutive ports from it`,
  );
  // Every node would make its own local CA in the same folder at once, and a load balancer
  // in front is where TLS belongs anyway.
  if (['1', 'true'].includes((env.HTTPS ?? '').toLowerCase())) {
    throw new Error(
      'npm run cluster serves plain HTTP: unset HTTPS, and terminate TLS at the load balancer',
    );
  }
  return {
    nodes,
    firstPort,
    host: env.HOST ?? '',
    databaseUrl: env.FERRY_DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl: env.FERRY_REDIS_URL || DEFAULT_REDIS_URL,
  };
}

/** Node k's port (k from 1). */
export function nodePort(options: ClusterOptions, k: number): number {
  return options.firstPort + k - 1;
}

/** Where a person opens node k: `localhost` for a node on every interface, as main.ts says. */
export function nodeUrl(options: ClusterOptions, k: number): string {
  return origin(isWildcard(options.host) ? 'localhost' : options.host, nodePort(options, k));
}

/**
 * Where the script checks node k's health. A node on every interface is asked on 127.0.0.1:
 * `localhost` may resolve to ::1 first, where a node on 0.0.0.0 does not listen.
 */
export function probeUrl(options: ClusterOptions, k: number): string {
  const { host } = options;
  const probed = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return origin(probed, nodePort(options, k));
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  why?: string,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    const because = why ? ` (${why})` : '';
    throw new Error(`${name} must be a whole number from ${min} to ${max}${because}, got "${raw}"`);
  }
  return value;
}
