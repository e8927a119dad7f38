// What a run reads at its end: convergence, every member's views, the server's store.
import Database from 'better-sqlite3';
import type { LocalMessage } from '../../src/client/types.ts';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import type { ChaosClient } from './chaos-client.ts';
import type { ChaosHistory, MemberView, ObservedMessage } from './checker.ts';

const POLL_MS = 200;
const PAGE = 500;

/**
 * Every member's view of its room, twice: live (after convergence), and after reopening the
 * device offline, which rebuilds the view from IndexedDB alone (what survives a reload).
 */
export async function readMemberViews(
  clients: readonly ChaosClient[],
): Promise<Map<string, MemberView[]>> {
  const views = new Map<string, MemberView[]>();
  const add = (room: string, view: MemberView) => {
    views.set(room, [...(views.get(room) ?? []), view]);
  };
  for (const client of clients) {
    add(client.room, {
      observer: `${client.name} live`,
      messages: observe(client.engine?.room(client.room).messages ?? []),
    });
  }
  for (const client of clients) {
    const engine = await client.reopenOffline();
    add(client.room, {
      observer: `${client.name} reloaded`,
      messages: observe(engine.room(client.room).messages),
    });
  }
  return views;
}

function observe(messages: readonly LocalMessage[]): ObservedMessage[] {
  return messages.map((message) => ({
    id: message.id,
    body: message.body,
    seq: message.status === 'sent' ? message.seq : null,
    status: message.status,
  }));
}

/**
 * Waits until every device is connected with an empty outbox and holds, all sent, exactly as
 * many messages as the server stores for its room (read from the SQLite file, read-only).
 */
export async function converge(
  clients: readonly ChaosClient[],
  dbPath: string,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; lagging: string[] }> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const countByRoom = db.prepare<[], { room: string; n: number }>(
    'SELECT room, count(*) AS n FROM messages GROUP BY room',
  );
  const lagging = (): string[] => {
    const stored = new Map(countByRoom.all().map((row) => [row.room, row.n]));
    return clients.flatMap((client) => {
      const engine = client.engine;
      if (!engine) return [`${client.name}: down`];
      const messages = engine.room(client.room).messages;
      const problems = [
        engine.connection.status === 'connected' ? '' : engine.connection.status,
        engine.outboxCount === 0 ? '' : `${engine.outboxCount} in outbox`,
        messages.every((message) => message.status === 'sent') ? '' : 'not all sent',
        messages.length === stored.get(client.room)
          ? ''
          : `${messages.length}/${stored.get(client.room)}`,
      ].filter(Boolean);
      return problems.length > 0 ? [`${client.name}: ${problems.join(', ')}`] : [];
    });
  };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = lagging();
      if (behind.length === 0) return { ok: true };
      if (Date.now() > deadline) return { ok: false, lagging: behind };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    db.close();
  }
}

/** The server's truth, read from the SQLite file after its graceful stop. */
export async function readServerRooms(
  dbPath: string,
  views: ReadonlyMap<string, MemberView[]>,
): Promise<ChaosHistory['rooms']> {
  const store = new SqliteMessageStore(dbPath);
  try {
    const rooms: ChaosHistory['rooms'][number][] = [];
    for (const [room, roomViews] of views) {
      const server: ObservedMessage[] = [];
      for (;;) {
        const page = await store.pageAfter(room, server.at(-1)?.seq ?? 0, PAGE);
        for (const message of page) {
          server.push({ id: message.id, body: message.body, seq: message.seq, status: 'sent' });
        }
        if (page.length < PAGE) break;
      }
      rooms.push({ room, server, views: roomViews });
    }
    return rooms;
  } finally {
    await store.close();
  }
}
