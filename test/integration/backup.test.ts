import { spawn } from 'node:child_process';
import {
  chmodSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../scripts/backup/command-line.ts';
import { BackupUsageError, backupSqlite } from '../../scripts/backup/sqlite-backup.ts';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { tempDir } from '../support/server.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROOMS = ['lobby', 'dev', 'random'] as const;
const AUTHOR = { id: 'user-writer', name: 'writer' };
/** Enough that the copy takes a moment, as writes go on around it. */
const PREFILLED_PER_ROOM = 3_000;
const BODY = 'x'.repeat(300);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` from the repository root with FERRY_DB and `env`; resolves when it exits. */
function run(command: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, FERRY_DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `npm run backup -- …`, as the docs say to run it. */
const npmBackup = (args: string[], env: Record<string, string | undefined>) =>
  run(['npm', 'run', '--silent', 'backup', '--', ...args], env);
/** The script itself, without npm's start-up time, for the cases that fail. */
const backupScript = (args: string[], env: Record<string, string | undefined>) =>
  run([process.execPath, '--import', 'tsx', 'scripts/backup.ts', ...args], env);

const batchOf = (size: number) =>
  Array.from({ length: size }, () => ({ id: crypto.randomUUID(), body: BODY }));

/** One room's log as a file holds it: what a backup must hold a prefix of. */
function roomLog(db: Database.Database, room: string) {
  return db.prepare('SELECT id, seq, body FROM messages WHERE room = ? ORDER BY seq').all(room) as {
    id: string;
    seq: number;
    body: string;
  }[];
}

describe('npm run backup', () => {
  const cleanups = cleanupsAfterEach();

  function folder() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    return dir.path;
  }

  it('copies the database while it is written to: each room a gap-free prefix of its log, the file 0600', async () => {
    const dir = folder();
    const dbPath = join(dir, 'ferry.db');
    const backupPath = join(dir, 'backup.db');
    const store = new SqliteMessageStore(dbPath);
    cleanups.push(() => store.close());
    for (const room of ROOMS) {
      for (let n = 0; n < PREFILLED_PER_ROOM; n += 500) {
        await store.appendBatch(room, AUTHOR, batchOf(500), Date.now());
      }
    }

    // Another connection writes to every room, one to five messages a commit, for as long
    // as the backup runs.
    let writing = true;
    let failed = 0;
    let commits = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const room = ROOMS[i % ROOMS.length] as string;
        await store.appendBatch(room, AUTHOR, batchOf(1 + (i % 5)), Date.now()).then(
          () => {
            commits += 1;
          },
          () => {
            failed += 1;
          },
        );
      }
    })();
    const seqsBefore = await store.latestSeqs(ROOMS);
    const backup = await npmBackup([backupPath], { FERRY_DB: dbPath });
    const commitsDuringBackup = commits;
    writing = false;
    await writer;

    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    console.log(backup.stdout.trim());
    expect(backup.stdout).toMatch(
      /^backed up .*ferry\.db to .*backup\.db: [\d.]+ MiB \([\d,]+ bytes\), [\d,]+ pages of 4,096 bytes, [\d,]+ messages in 3 rooms, in \d+ ms/,
    );
    expect(commitsDuringBackup).toBeGreaterThan(0);
    expect(failed).toBe(0);
    expect(statSync(backupPath).mode & 0o777).toBe(0o600);
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);

    const source = new Database(dbPath, { readonly: true });
    const copy = new Database(backupPath);
    cleanups.push(
      () => void source.close(),
      () => void copy.close(),
    );
    let behind = 0;
    for (const room of ROOMS) {
      const copied = roomLog(copy, room);
      const original = roomLog(source, room);
      const n = copied.length;
      expect(copied.map((message) => message.seq)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      // The same messages as the source's first n: a prefix, not merely n messages.
      expect(copied).toEqual(original.slice(0, n));
      // The room's counter agrees with its messages: one snapshot, not a torn copy.
      expect(copy.prepare('SELECT last_seq FROM rooms WHERE room = ?').pluck().get(room)).toBe(n);
      expect(n).toBeGreaterThanOrEqual(seqsBefore.get(room) ?? 0);
      if (n < original.length) behind += 1;
    }
    // The writes went on after the snapshot: it was taken while they were being made.
    expect(behind).toBeGreaterThan(0);
  });

  it('refuses a bad command line, an existing file without --force, and PostgreSQL, with a clear error and exit code', async () => {
    const dir = folder();
    const dbPath = join(dir, 'ferry.db');
    await new SqliteMessageStore(dbPath).close();
    const existing = join(dir, 'existing.db');
    writeFileSync(existing, 'an older backup');
    chmodSync(existing, 0o644);
    const env = { FERRY_DB: dbPath };

    const cases: {
      what: string;
      args: string[];
      env?: Record<string, string>;
      code: number;
      says: RegExp;
    }[] = [
      {
        what: 'no file',
        args: [],
        code: 2,
        says: /name the file to write the backup to\nusage: npm run backup -- <file>/,
      },
      {
        what: 'a file that exists',
        args: [existing],
        code: 2,
        says: /existing\.db already exists: pass --force to replace it/,
      },
      {
        what: 'no database at FERRY_DB',
        args: [join(dir, 'a.db')],
        env: { FERRY_DB: join(dir, 'none.db') },
        code: 1,
        says: /there is no database at .*none\.db/,
      },
      {
        what: 'PostgreSQL configured',
        args: [join(dir, 'a.db')],
        env: { FERRY_DATABASE_URL: 'postgres://ferry@db.internal:5432/ferry' },
        code: 1,
        says: /FERRY_DATABASE_URL is set.*pg_dump/,
      },
    ];
    // At once: each is a tsx start-up, most of its time.
    const results = await Promise.all(
      cases.map(({ args, env: extra }) => backupScript(args, { ...env, ...extra })),
    );
    for (const [i, { what, code, says }] of cases.entries()) {
      const result = results[i] as Run;
      expect({ what, code: result.code, stdout: result.stdout }).toEqual({
        what,
        code,
        stdout: '',
      });
      expect(result.stderr, what).toMatch(says);
      expect(result.stderr.trim().split('\n')[0], what).toMatch(/^backup: /);
    }
    expect(readFileSync(existing, 'utf8')).toBe('an older backup');
    expect(readdirSync(dir).sort()).toEqual(['existing.db', 'ferry.db']);

    const forced = await backupScript([existing, '--force'], env);
    expect(forced.code).toBe(0);
    expect(statSync(existing).mode & 0o777).toBe(0o600);
    const copy = new Database(existing, { readonly: true });
    expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
    copy.close();
  });

  it('reads one file and --force from the command line, and nothing else', () => {
    expect(parseCommandLine(['b.db'])).toEqual({ file: 'b.db', force: false, help: false });
    expect(parseCommandLine(['--force', 'b.db'])).toEqual({
      file: 'b.db',
      force: true,
      help: false,
    });
    expect(parseCommandLine(['--help']).help).toBe(true);
    expect(() => parseCommandLine([])).toThrow('name the file to write the backup to');
    expect(() => parseCommandLine(['a.db', 'b.db'])).toThrow('one file only, got 2: a.db b.db');
    expect(() => parseCommandLine(['--forse', 'a.db'])).toThrow(/Unknown option '--forse'/);
  });

  it('refuses to write over the database or into a folder that does not exist', async () => {
    const dir = folder();
    const dbPath = join(dir, 'ferry.db');
    await new SqliteMessageStore(dbPath).close();
    for (const target of [dbPath, `${dbPath}-wal`]) {
      const refused = await backupSqlite(dbPath, target, { force: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BackupUsageError);
      expect((refused as Error).message).toBe(
        `${target} is the database itself: back it up elsewhere`,
      );
    }
    // The same file by another path: a folder linked to the database's own.
    symlinkSync(dir, join(dir, 'linked'));
    const aliased = join(dir, 'linked', 'ferry.db');
    const refused = await backupSqlite(dbPath, aliased, { force: true }).catch((e: unknown) => e);
    expect((refused as Error).message).toBe(
      `${aliased} is the database itself: back it up elsewhere`,
    );
    rmSync(join(dir, 'linked'));
    await expect(backupSqlite(dbPath, join(dir, 'missing', 'b.db'))).rejects.toThrow(
      `the folder ${join(dir, 'missing')} does not exist`,
    );
    expect(readdirSync(dir).sort()).toEqual(['ferry.db']);
  });
});
