import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A folder Ferry creates for its database: only the server's user may list or enter it. */
export const DATA_DIR_MODE = 0o700;
/** The database and its WAL files: only the server's user may read them (private rooms). */
export const DATA_FILE_MODE = 0o600;
/** The files SQLite keeps beside a WAL database. */
const WAL_SUFFIXES = ['-wal', '-shm'] as const;
/** Permission bits for the group and for others. */
const NOT_OWNER_BITS = 0o077;

const octal = (mode: number) => (mode & 0o777).toString(8);

/**
 * Makes the database's folder and file private before SQLite opens them. SQLite would make
 * the file 0644 (readable by every local user), and it gives the -wal and -shm files the
 * main file's mode, so creating the main file 0600 first covers all three.
 *
 * Files that exist too open (made by an older Ferry) are tightened: they are Ferry's own.
 * A folder that exists too open is only reported: it may be shared on purpose (a home
 * folder, /var/lib), and with private files in it, others can see only their names.
 */
export function prepareDataFiles(dbPath: string, warn: (line: string) => void): void {
  const dir = dirname(dbPath);
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  const dirMode = statSync(dir).mode;
  if ((dirMode & NOT_OWNER_BITS) !== 0) {
    warn(
      `the database folder ${dir} is open to other users (mode ${octal(dirMode)}); ` +
        `run "chmod 700 ${dir}" unless it is shared on purpose`,
    );
  }
  closeSync(openSync(dbPath, 'a', DATA_FILE_MODE));
  for (const file of [dbPath, ...WAL_SUFFIXES.map((suffix) => dbPath + suffix)]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode;
    if ((mode & NOT_OWNER_BITS) === 0) continue;
    try {
      chmodSync(file, DATA_FILE_MODE);
    } catch (error) {
      // Someone else's file: the server can still use it, so say so rather than not start.
      const why = error instanceof Error ? error.message : String(error);
      warn(
        `${file} is readable by other users (mode ${octal(mode)}) and could not be fixed: ${why}`,
      );
    }
  }
}
