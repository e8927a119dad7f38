import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * A database that exists, as a user that may create databases. CI and development machines
 * run PostgreSQL at 127.0.0.1:5432 with trust auth; FERRY_TEST_POSTGRES_URL points elsewhere.
 */
export const POSTGRES_ADMIN_URL =
  process.env.FERRY_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** How long the reachability check waits: a server that is up answers in milliseconds. */
const REACH_TIMEOUT_MS = 2_000;

/** A connected client to `url`; an 'error' listener keeps a dropped connection from crashing. */
export async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: REACH_TIMEOUT_MS,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectTo(POSTGRES_ADMIN_URL);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Why PostgreSQL cannot be used here, or null when it can. */
async function unreachableBecause(): Promise<string | null> {
  try {
    await asAdmin((client) => client.query('SELECT 1'));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  }
}

const problem = await unreachableBecause();

if (problem !== null) {
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n${
      inCi
        ? `CI: PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable (${problem}), so the tests that need it FAIL.`
        : `SKIPPING the PostgreSQL tests: ${POSTGRES_ADMIN_URL} is unreachable (${problem}).\n` +
          'Start PostgreSQL there (trust auth, user postgres, database test), or set FERRY_TEST_POSTGRES_URL.'
    }\n${line}\n`,
  );
}

/**
 * `describe` for suites that need PostgreSQL. Without it they are skipped loudly, except in
 * CI, where they run and fail: CI must never pass without its PostgreSQL tests.
 */
export const describeWithPostgres = describe.skipIf(problem !== null && !inCi);

/** A new, empty database of its own, and the way to drop it (connections and all). */
export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a random name on the admin connection's server. */
export async function freshDatabase(): Promise<FreshDatabase> {
  if (problem !== null) {
    throw new Error(`PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable: ${problem}`);
  }
  // Only lowercase hex after a fixed prefix: safe to splice into CREATE/DROP DATABASE.
  const name = `ferry_test_${randomBytes(8).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
