// What a run reads at its end: drain and convergence, every member's views, the server's store.
import Database from 'better-sqlite3';
import { openDB } from 'idb';
import { shown } from '../../src/client/message-state.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import { isOp } from '../../src/shared/protocol.ts';
import type { ChaosDevice } from './chaos-client.ts';
import type { ChaosHistory, MemberView, ObservedMessage, ObservedOp } from './checker.ts';

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

/** Each message as the UI shows it: with the edit or delete typed here applied. */
function observe(messages: readonly LocalMessage[]): ObservedMessage[] {
  return messages.map((message) => {
    const state = shown(message);
    return {
      id: message.id,
      body: state.body,
      seq: message.status === 'sent' ? message.seq : null,
      status: message.status,
      error: message.status === 'failed' ? message.error.code : null,
      ...(state.edited ? { edited: true } : {}),
      ...(state.deleted ? { deleted: true } : {}),
      ...(state.changing ? { changing: true } : {}),
      ...(message.opError ? { opError: message.opError.code } : {}),
    };
  });
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

/**
 * What the server stores of a room now, which every view must reach: its messages (not its
 * operations, which a view does not list), and the sum of each message's version (the seq
 * of the last edit or delete applied to it, or its own), which grows with every operation,
 * so a view that has not applied one yet does not pass for converged.
 */
export interface StoredRoom {
  messages: number;
  versions: number;
}

/** What the server stores now, per room. */
export type StoredCounts = () => Promise<ReadonlyMap<string, StoredRoom>>;

const STORED_ROOMS_SQL =
  'SELECT room, count(*) AS messages, sum(coalesce(version, seq)) AS versions ' +
  "FROM messages WHERE kind = 'message' GROUP BY room";

/**
 * Stored counts read from a SQLite file, read-only, while the server writes it; `close` lets
 * the file go.
 */
export function sqliteCounts(dbPath: string): { counts: StoredCounts; close(): void } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const byRoom = db.prepare<[], StoredRoom & { room: string }>(STORED_ROOMS_SQL);
  return {
    counts: async () =>
      new Map(
        byRoom.all().map(({ room, messages, versions }) => [room, { messages, versions }] as const),
      ),
    close: () => {
      if (db.open) db.close();
    },
  };
}

/**
 * After healing, waits until every device has an empty outbox and every tab is connected and
 * holds, all sent and none still changing, exactly as many messages as the server stores for
 * its room, with every edit and delete applied (`stored`), or until `timeoutMs`. What the outboxes hold when the wait ends is what `stuck` counts.
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
      lagOf(
        device,
        outboxes.get(device.name) ?? 0,
        counts.get(device.room) ?? { messages: 0, versions: 0 },
      ),
    );
    if (lagging.length === 0) return { converged: true, lagging, outboxAtDeadline: outboxes };
    if (Date.now() > deadline) return { converged: false, lagging, outboxAtDeadline: outboxes };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function lagOf(device: ChaosDevice, outbox: number, stored: StoredRoom): string[] {
  const problems = outbox === 0 ? [] : [`${device.name}: ${outbox} in outbox`];
  for (const tab of device.tabs) {
    const engine = tab.engine;
    if (!engine) {
      problems.push(`${tab.label}: down`);
      continue;
    }
    const messages = engine.room(device.room).messages;
    let sent = 0;
    let versions = 0;
    for (const message of messages) {
      if (message.status !== 'sent') continue;
      sent += 1;
      versions += message.version ?? message.seq;
    }
    const pending = messages.length - sent - messages.filter((m) => m.status === 'failed').length;
    const changing = messages.filter((message) => message.pendingOp).length;
    const tabProblems = [
      engine.connection.status === 'connected' ? '' : engine.connection.status,
      pending === 0 ? '' : `${pending} pending`,
      changing === 0 ? '' : `${changing} changing`,
      sent === stored.messages ? '' : `${sent}/${stored.messages} sent`,
      sent !== stored.messages || versions === stored.versions ? '' : 'edits or deletes missing',
    ].filter(Boolean);
    if (tabProblems.length > 0) problems.push(`${tab.label}: ${tabProblems.join(', ')}`);
  }
  return problems;
}

/**
 * The server's truth, read from its store once the servers have stopped: the room log's
 * messages, each in its final state, and its operations apart.
 */
export async function readServerRooms(
  store: Pick<MessageStore, 'pageAfter'>,
  views: ReadonlyMap<string, MemberView[]>,
): Promise<ChaosHistory['rooms']> {
  const rooms: ChaosHistory['rooms'][number][] = [];
  for (const [room, roomViews] of views) {
    const server: ObservedMessage[] = [];
    const ops: ObservedOp[] = [];
    let after = 0;
    for (;;) {
      const page = await store.pageAfter(room, after, PAGE);
      for (const entry of page) {
        after = entry.seq;
        if (isOp(entry)) {
          ops.push({
            id: entry.id,
            seq: entry.seq,
            kind: entry.kind,
            target: entry.target,
            body: entry.body,
            erased: entry.deleted === true,
          });
          continue;
        }
        server.push({
          id: entry.id,
          body: entry.body,
          seq: entry.seq,
          status: 'sent',
          error: null,
          ...(entry.edited ? { edited: true } : {}),
          ...(entry.deleted ? { deleted: true } : {}),
        });
      }
      if (page.length < PAGE) break;
    }
    rooms.push({ room, server, ops, views: roomViews });
  }
  return rooms;
}
