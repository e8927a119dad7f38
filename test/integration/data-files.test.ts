import { chmodSync, mkdirSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { openSqlite } from '../../src/server/store/sqlite-db.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { tempDir } from '../support/server.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** Writes one row so that SQLite makes the -wal and -shm files beside the database. */
function writeSomething(db: Database.Database): void {
  db.prepare('INSERT INTO rooms (room, last_seq, last_ts) VALUES (?, 0, 0)').run('lobby');
}

describe("the database's files on disk", () => {
  const cleanups = cleanupsAfterEach();

  function scratch(): string {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    return dir.path;
  }

  it('creates the folder 0700 and the database, its -wal and its -shm 0600', () => {
    const folder = `${scratch()}/data`;
    const db = openSqlite(`${folder}/ferry.db`, () => {});
    cleanups.push(() => void db.close());
    writeSomething(db);
    expect(modeOf(folder)).toBe('700');
    for (const file of ['ferry.db', 'ferry.db-wal', 'ferry.db-shm']) {
      expect([file, modeOf(`${folder}/${file}`)]).toEqual([file, '600']);
    }
  });

  it('tightens a database that other users could read, with its WAL files', () => {
    const path = `${scratch()}/ferry.db`;
    const older = new Database(path);
    older.pragma('journal_mode = WAL');
    older.exec('CREATE TABLE t (x)');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) chmodSync(file, 0o644);

    const db = openSqlite(path, () => {});
    cleanups.push(() => void db.close());
    older.close();
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect([file, modeOf(file)]).toEqual([file, '600']);
    }
  });

  it('warns about a folder that other users can enter, and leaves it as it is', () => {
    const folder = `${scratch()}/shared`;
    mkdirSync(folder, { mode: 0o755 });
    chmodSync(folder, 0o755);
    const warn = vi.fn();
    const db = openSqlite(`${folder}/ferry.db`, warn);
    cleanups.push(() => void db.close());
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[0]).toContain(`chmod 700 ${folder}`);
    expect(modeOf(folder)).toBe('755');
  });
});
