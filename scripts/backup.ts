// `npm run backup -- <file> [--force]`: a consistent copy of the SQLite database (FERRY_DB,
// data/ferry.db by default, as the server reads it), taken while the server runs, readable
// by this user only (0600). docs/operations.md, "Backups", says how to restore it. With
// FERRY_DATABASE_URL the data is in PostgreSQL, which pg_dump backs up instead.
//
// Exit codes: 0 backed up; 1 the backup could not be made; 2 the command line must change.
import { configFromEnv } from '../src/server/config.ts';
import {
  type BackupCommand,
  describeSummary,
  parseCommandLine,
  USAGE,
} from './backup/command-line.ts';
import { BackupUsageError, backupSqlite } from './backup/sqlite-backup.ts';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function fail(message: string, code: number, { usage = false } = {}): never {
  console.error(`backup: ${message}`);
  if (usage) console.error(USAGE);
  process.exit(code);
}

let commandLine: BackupCommand;
try {
  commandLine = parseCommandLine(process.argv.slice(2));
} catch (error) {
  fail(messageOf(error), EXIT_USAGE, { usage: true });
}
if (commandLine.help) {
  console.log(USAGE);
  process.exit(0);
}

let database: ReturnType<typeof configFromEnv>['database'];
try {
  database = configFromEnv().database;
} catch (error) {
  fail(messageOf(error), EXIT_FAILED);
}
if (database.kind === 'postgres') {
  fail(
    'FERRY_DATABASE_URL is set: the data is in PostgreSQL, and this copies the SQLite file ' +
      'only. Back PostgreSQL up with pg_dump (docs/operations.md, "Backups").',
    EXIT_FAILED,
  );
}

try {
  const summary = await backupSqlite(database.path, commandLine.file, {
    force: commandLine.force,
  });
  console.log(describeSummary(summary));
} catch (error) {
  fail(messageOf(error), error instanceof BackupUsageError ? EXIT_USAGE : EXIT_FAILED);
}
