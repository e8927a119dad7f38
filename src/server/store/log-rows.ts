import type { LogEntry } from '../../shared/protocol.ts';

/** A row of the `messages` table as both stores select it (LOG_COLUMNS). */
export interface LogRow {
  id: string;
  room: string;
  seq: number;
  ts: number;
  authorId: string;
  author: string;
  body: string;
  kind: 'message' | 'edit' | 'delete';
  target: string | null;
  version: number | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  edited: number | boolean;
  deleted: number | boolean;
}

/** The select list that reads a LogRow, in both SQL dialects. */
export const LOG_COLUMNS =
  'id, room, seq, ts, author_id AS "authorId", author, body, kind, target, version, edited, deleted';

/**
 * The wire shape of a row: a message carries `edited`, `deleted` and `version` only once an
 * operation set them, so an untouched message costs no more bytes than before edits.
 */
export function logEntryOf(row: LogRow): LogEntry {
  const base = {
    id: row.id,
    room: row.room,
    seq: row.seq,
    ts: row.ts,
    authorId: row.authorId,
    author: row.author,
    body: row.body,
  };
  if (row.kind !== 'message') {
    return {
      ...base,
      kind: row.kind,
      target: row.target ?? '',
      ...(row.deleted ? { deleted: true as const } : {}),
    };
  }
  return {
    ...base,
    ...(row.edited ? { edited: true as const } : {}),
    ...(row.deleted ? { deleted: true as const } : {}),
    ...(row.version !== null ? { version: row.version } : {}),
  };
}
