import pg from 'pg';
import { withoutPassword } from '../../src/server/redacted-url.ts';
import { isPgUnavailable } from '../../src/server/store/pg-errors.ts';

/** A PostgreSQL that is up answers in milliseconds; one that is not should not hold us long. */
const CONNECT_TIMEOUT_MS = 3_000;
/** SQLSTATE invalid_catalog_name: the database in the URL does not exist. */
const NO_SUCH_DATABASE = '3D000';
/** SQLSTATE duplicate_database: someone else created it first, which is as good. */
const DATABASE_EXISTS = '42P04';
/** The database every PostgreSQL has for connecting before the one you want exists. */
const MAINTENANCE_DATABASE = 'postgres';

/**
 * Makes sure the database in `url` exists, creating it (through the maintenance database)
 * when it does not: a first `npm run cluster` on a fresh machine needs no `createdb`.
 * Answers whether it was created; throws an error a person can act on otherwise.
 */
export async function ensureDatabase(url: string): Promise<'existed' | 'created'> {
  try {
    await probe(url);
    return 'existed';
  } catch (error) {
    if (codeOf(error) !== NO_SUCH_DATABASE) throw explained(url, error);
  }
  const name = databaseName(url);
  const maintenance = new URL(url);
  maintenance.pathname = `/${MAINTENANCE_DATABASE}`;
  try {
    await withClient(maintenance.toString(), (client) =>
      client.query(`CREATE DATABASE ${quoteIdentifier(name)}`),
    );
  } catch (error) {
    if (codeOf(error) === DATABASE_EXISTS) return 'existed';
    throw explained(url, error, `could not create the database "${name}"`);
  }
  return 'created';
}

async function probe(url: string): Promise<void> {
  await withClient(url, (client) => client.query('SELECT 1'));
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A connection dropped between queries must fail the query, not crash the script.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The error to print: what failed, where (never the password), and what to do about it. */
function explained(url: string, error: unknown, what?: string): Error {
  const where = withoutPassword(url);
  const reason =
    error instanceof Error ? error.message || codeOf(error) || error.name : String(error);
  if (isPgUnavailable(error)) {
    return new Error(
      `PostgreSQL is unreachable at ${where} (${reason}).\n` +
        'Start PostgreSQL there (npm run cluster expects it on 127.0.0.1:5432, user postgres, ' +
        'trust auth), or point FERRY_DATABASE_URL at one.',
    );
  }
  return new Error(`${what ?? 'cannot use the database'} at ${where}: ${reason}`);
}

/** The database a connection string names, as PostgreSQL gets it (percent-decoded). */
function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (name === '') throw new Error(`FERRY_DATABASE_URL names no database: ${withoutPassword(url)}`);
  return name;
}

/** A name spliced into CREATE DATABASE, which takes no parameters, as a quoted identifier. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
