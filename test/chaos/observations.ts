// What a run reads at its end: drain and convergence, every member's views, the server's store.
import Database from 'better-sqlite3';
import { openDB } from 'idb';
import type { LocalMessage } from '../../src/client/types.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import type { ChaosDevice } from './chaos-client.ts';
import type { ChaosHistory, MemberView, ObservedMessage } from './checker.ts';

const POLL_MS = 250;
const PAGE = 500;

/**
 * Every member's view of its room: live, from every tab of every device (after
 * convergence), and after reopening each device offline, which rebuilds the view from
 * IndexedDB alone (what survives a reload).
 */
export async function readMemberViews(
  devices: readonly ChaosDevice[],
): Promise<Map<string, MemberView[]>> {
  const views = new Map<string, MemberView[]>();
  const add = (room: string, view: MemberView) => {
    views.set(room, [...(views.get(room) ?? []), view]);
  };
  for (const device of devices) {
    for (const tab of device.tabs) {
      add(device.room, {
        observer: `${tab.label} live`,
        device: device.name,
        reloaded: false,
        messages: observe(tab.engine?.room(device.room).messages ?? []),
      });
    }
  }
  for (const device of devices) {
    const engine = await device.reopenOffline();
    add(device.room, {
      observer: `${device.name} reloaded`,
      device: device.name,
      reloaded: true,
      messages: observe(engine.room(device.room).messages),
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
    error: message.status === 'failed' ? message.error.code : null,
  }));
}

/** Messages queued in a device's outbox, read from its IndexedDB database (all tabs share it). */
export async function outboxCount(dbName: string): Promise<number> {
  const db = await openDB(dbName);
  try {
    if (!db.objectStoreNames.contains('outbox')) {
      throw new Error(`${dbName} has no outbox store: has the local schema changed?`);
    }
    return await db.count('outbox');
  } finally {
    db.close();
  }
}

export interface Settled {
  converged: boolean;
  /** What kept devices from converging, when they did not. */
  lagging: string[];
  /** Each device's outbox when the wait ended (at convergence, all 0, or at the deadline). */
  outboxAtDeadline: Map<string, number>;
}

/** Messages the server stores now, per room: what a device's view must reach. */
export type StoredCounts = () => Promise<ReadonlyMap<string, number>>;

/**
 * Stored counts read from a SQLite file, read-only, while the server writes it; `close` lets
 * the file go.
 */
export function sqliteCounts(dbPath: string): { counts: StoredCounts; close(): void } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const countByRoom = db.prepare<[], { room: string; n: number }>(
    'SELECT room, count(*) AS n FROM messages GROUP BY room',
  );
  return {
    counts: async () => new Map(countByRoom.all().map((row) => [row.room, row.n])),
    close: () => {
      if (db.open) db.close();
    },
  };
}

/**
 * After healing, waits until every device has an empty outbox and every tab is connected and
 * holds, all sent, exactly as many messages as the server stores for its room (`stored`),
 * or until `timeoutMs`. What the outboxes hold when the wait ends is what `stuck` counts.
 */
export async function settle(
  devices: readonly ChaosDevice[],
  stored: StoredCounts,
  timeoutMs: number,
): Promise<Settled> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await stored();
    const outboxes = new Map<string, number>();
    for (const device of devices) outboxes.set(device.name, await outboxCount(device.dbName));
    const lagging = devices.flatMap((device) =>
      lagOf(device, outboxes.get(device.name) ?? 0, counts.get(device.room) ?? 0),
    );
    if (lagging.length === 0) return { converged: true, lagging, outboxAtDeadline: outboxes };
    if (Date.now() > deadline) return { converged: false, lagging, outboxAtDeadline: outboxes };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function lagOf(device: ChaosDevice, outbox: number, stored: number): string[] {
  const problems = outbox === 0 ? [] : [`${device.name}: ${outbox} in outbox`];
  for (const tab of device.tabs) {
    const engine = tab.engine;
    if (!engine) {
      problems.push(`${tab.label}: down`);
      continue;
    }
    const messages = engine.room(device.room).messages;
    const sent = messages.filter((message) => message.status === 'sent').length;
    const pending = messages.length - sent - messages.filter((m) => m.status === 'failed').length;
    const tabProblems = [
      engine.connection.status === 'connected' ? '' : engine.connection.status,
      pending === 0 ? '' : `${pending} pending`,
      sent === stored ? '' : `${sent}/${stored} sent`,
    ].filter(Boolean);
    if (tabProblems.length > 0) problems.push(`${tab.label}: ${tabProblems.join(', ')}`);
  }
  return problems;
}

/** The server's truth, read from its store once the servers have stopped. */
export async function readServerRooms(
  store: Pick<MessageStore, 'pageAfter'>,
  views: ReadonlyMap<string, MemberView[]>,
): Promise<ChaosHistory['rooms']> {
  const rooms: ChaosHistory['rooms'][number][] = [];
  for (const [room, roomViews] of views) {
    const server: ObservedMessage[] = [];
    for (;;) {
      const page = await store.pageAfter(room, server.at(-1)?.seq ?? 0, PAGE);
      for (const message of page) {
        server.push({
          id: message.id,
          body: message.body,
          seq: message.seq,
          status: 'sent',
          error: null,
        });
      }
      if (page.length < PAGE) break;
    }
    rooms.push({ room, server, views: roomViews });
  }
  return rooms;
}
