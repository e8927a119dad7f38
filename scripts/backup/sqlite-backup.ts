import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DATA_FILE_MODE } from '../../src/server/store/data-files.ts';

/**
 * Pages copied per backup step: all of them. The backup API starts over whenever another
 * connection writes between two steps, so against a server that commits every few
 * milliseconds a copy in small steps might never finish. In one step it is one read
 * transaction: a snapshot, which in WAL mode never blocks the server's writes (its
 * checkpoints wait for the snapshot to end, so the -wal file grows meanwhile).
 */
const ALL_PAGES = 0x7fffffff;
/** A reader waits for another connection only while that one recovers the WAL: briefly. */
const READ_BUSY_TIMEOUT_MS = 5_000;

/** A backup refused because of how it was asked for: the command line must change. */
export class BackupUsageError extends Error {
  override name = 'BackupUsageError';
}

export interface BackupOptions {
  /** Replace `destination` if it exists. */
  force?: boolean;
}

/** What a backup copied. */
export interface BackupSummary {
  source: string;
  destination: string;
  bytes: number;
  pages: number;
  pageSize: number;
  rooms: number;
  messages: number;
  ms: number;
}

/**
 * Copies the SQLite database at `source` to `destination` with SQLite's online backup API:
 * a consistent snapshot, taken while the server goes on writing. The copy is written to a
 * temporary file beside `destination`, private (0600: it holds session token hashes) from
 * its first byte, checked (`PRAGMA quick_check`), and only then moved to its name: a failed
 * backup never leaves a file that looks like a good one.
 *
 * Throws a BackupUsageError when `destination` exists (without `force`) or is the database
 * itself; any other error when the backup could not be made.
 */
export async function backupSqlite(
  sourcePath: string,
  destinationPath: string,
  { force = false }: BackupOptions = {},
): Promise<BackupSummary> {
  const source = resolve(sourcePath);
  const destination = resolve(destinationPath);
  if (!existsSync(dirname(destination))) {
    throw new Error(`the folder ${dirname(destination)} does not exist`);
  }
  if (!existsSync(source)) {
    throw new Error(`there is no database at ${source} (FERRY_DB): nothing to back up`);
  }
  // Compared through symbolic links: `--force` onto the live file by another path would
  // replace the database under the running server.
  const realSource = realpathSync(source);
  const realDestination = join(realpathSync(dirname(destination)), basename(destination));
  if ([realSource, `${realSource}-wal`, `${realSource}-shm`].includes(realDestination)) {
    throw new BackupUsageError(`${destination} is the database itself: back it up elsewhere`);
  }
  if (existsSync(destination) && !force) {
    throw new BackupUsageError(`${destination} already exists: pass --force to replace it`);
  }

  const started = performance.now();
  const partial = join(dirname(destination), `.${basename(destination)}.partial-${process.pid}`);
  createPrivate(partial);
  try {
    const { pages, pageSize } = await copySnapshot(source, partial);
    const { rooms, messages } = checkCopy(partial);
    moveIntoPlace(partial, destination, force);
    return {
      source,
      destination,
      bytes: statSync(destination).size,
      pages,
      pageSize,
      rooms,
      messages,
      ms: performance.now() - started,
    };
  } finally {
    for (const suffix of ['', '-journal', '-wal', '-shm'])
      rmSync(partial + suffix, { force: true });
  }
}

/** An empty file only this user may read: SQLite keeps an existing file's mode. */
function createPrivate(path: string): void {
  const fd = openSync(path, 'wx', DATA_FILE_MODE);
  try {
    // The umask may have taken bits away (0400 would leave SQLite unable to write).
    fchmodSync(fd, DATA_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

async function copySnapshot(
  source: string,
  destination: string,
): Promise<{ pages: number; pageSize: number }> {
  // Read-only: the backup never writes to the server's files, not even a checkpoint.
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const { totalPages } = await db.backup(destination, { progress: () => ALL_PAGES });
    return { pages: totalPages, pageSize };
  } finally {
    db.close();
  }
}

/** Opens the copy as the server would, and checks its structure; answers what it holds. */
function checkCopy(path: string): { rooms: number; messages: number } {
  const db = new Database(path, { fileMustExist: true });
  try {
    const problems = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    const verdict = problems.map((row) => row.quick_check).join('; ');
    if (verdict !== 'ok') throw new Error(`the copy fails PRAGMA quick_check: ${verdict}`);
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { rooms: count('rooms'), messages: count('messages') };
  } finally {
    db.close();
  }
}

/**
 * Gives the finished copy its name, durably. Without `force` a hard link, which fails if
 * the name was taken meanwhile, rather than a rename, which would replace it; a rename
 * after one more look on a filesystem without hard links (many network shares).
 */
function moveIntoPlace(partial: string, destination: string, force: boolean): void {
  const taken = () =>
    new BackupUsageError(`${destination} already exists: pass --force to replace it`);
  if (force) {
    renameSync(partial, destination);
  } else {
    try {
      linkSync(partial, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw taken();
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
      if (existsSync(destination)) throw taken();
      renameSync(partial, destination);
    }
  }
  const folder = openSync(dirname(destination), 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}
