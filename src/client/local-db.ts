import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Amendment } from './message-state.ts';
import type { Identity, LocalMessage, OutboxEntry, RoomMeta, RoomRecord } from './types.ts';

/** The IndexedDB schema. Bump DB_VERSION and add a step to `upgrade` for every change. */
export interface FerryDBSchema extends DBSchema {
  outbox: {
    key: number;
    // `author` and `createdAt` are missing on entries queued by versions before 0.2.
    value: Omit<OutboxEntry, 'key' | 'author' | 'createdAt'> &
      Partial<Pick<OutboxEntry, 'key' | 'author' | 'createdAt'>>;
  };
  messages: {
    key: string;
    value: LocalMessage;
    /**
     * `by-room-order` holds pending and failed messages only (a sent one has no `order`),
     * so a room opens with its local messages without reading the whole room.
     */
    indexes: {
      'by-room': string;
      'by-room-seq': [string, number];
      'by-room-order': [string, number];
    };
  };
  rooms: { key: string; value: RoomRecord };
  /** The rooms in the user's list: name and read cursors (see RoomMeta). */
  roomMeta: { key: string; value: RoomMeta };
  session: { key: 'identity'; value: Identity };
  /** Edits and deletes heard for messages not on this device yet, by the message's id. */
  amendments: {
    key: string;
    value: Amendment;
    indexes: { 'by-room-version': [string, number] };
  };
  /**
   * `claimed`: the highest outbox key ever put in a batch. An entry above it has never left
   * the device, so it can still be changed or taken back in place (see LocalStore.claimBatch).
   */
  outboxClaims: { key: 'claimed'; value: number };
}

export type FerryDB = IDBPDatabase<FerryDBSchema>;

/** A room just added to the list: nothing read, nothing acknowledged, nothing heard. */
export function newRoomMeta(room: string, name: string, addedAt: number): RoomMeta {
  return {
    room,
    name,
    addedAt,
    read: 0,
    unreadFloor: 0,
    readAcked: 0,
    deliveredAcked: 0,
    othersDelivered: 0,
    othersRead: 0,
  };
}

/** The schema's own version: bump it and add a step to `upgrade` for every change. */
const SCHEMA_VERSION = 3;

/**
 * Test builds only: `VITE_FERRY_TEST_DB_VERSION_BUMP=1 vite build` makes a build that opens
 * the database one version higher, with the same schema (its upgrade has no step to run),
 * as the next release that changes the schema would. The schema-upgrade browser test
 * (test/e2e/schema-upgrade.test.ts) opens such a build beside older tabs. Read here and
 * nowhere else; a release build never sets it. `import.meta.env` is Vite's (and vitest's):
 * under plain Node (tsx: the chaos suite, the benchmarks) it is undefined.
 */
function testVersionBump(): number {
  const bump = Number(import.meta.env?.VITE_FERRY_TEST_DB_VERSION_BUMP ?? 0);
  return Number.isInteger(bump) && bump > 0 ? bump : 0;
}

/** The version this build opens the database at. */
export const DB_VERSION = SCHEMA_VERSION + testVersionBump();

export interface OpenOptions {
  /**
   * Another tab holds an older version open and has not closed it yet (a Ferry from before
   * tabs let go, or a tab the browser froze). The upgrade waits for it, and goes on by
   * itself once it closes; meanwhile the app must say why it waits, never hang silently.
   */
  onBlocked?: () => void;
  /**
   * A newer version of the app (in another tab) wants to upgrade. This connection is
   * closed so the upgrade can go on; the app should reload.
   */
  onVersionChange?: () => void;
  /**
   * The browser closed the database by itself (storage cleared, disk trouble). Nothing can
   * be written any more; the app must say so and reload.
   */
  onClosed?: () => void;
}

/**
 * The device's database was saved by a newer version of Ferry than this one (the app was
 * rolled back, or an old copy is still cached). Its data is intact and must stay so: this
 * copy cannot read it, and a newer one can.
 */
export class NewerDatabaseError extends Error {
  override name = 'NewerDatabaseError';

  constructor(cause: unknown) {
    super('the data on this device was saved by a newer version of Ferry', { cause });
  }
}

/**
 * Opens (creating or upgrading) the local database. Rejects with NewerDatabaseError when
 * the database is at a higher version than DB_VERSION.
 */
export async function openFerryDb(name: string, options: OpenOptions = {}): Promise<FerryDB> {
  try {
    return await openWithUpgrades(name, options);
  } catch (error) {
    // IndexedDB's own name for "asked for a version lower than the stored one".
    if (error instanceof DOMException && error.name === 'VersionError') {
      throw new NewerDatabaseError(error);
    }
    throw error;
  }
}

function openWithUpgrades(name: string, options: OpenOptions): Promise<FerryDB> {
  return openDB<FerryDBSchema>(name, DB_VERSION, {
    async upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        db.createObjectStore('outbox', { keyPath: 'key', autoIncrement: true });
        const messages = db.createObjectStore('messages', { keyPath: 'id' });
        messages.createIndex('by-room', 'room');
        // Pending and failed messages have no seq, so this index holds sent ones only.
        messages.createIndex('by-room-seq', ['room', 'seq']);
        db.createObjectStore('rooms', { keyPath: 'room' });
        db.createObjectStore('session');
      }
      if (oldVersion < 2) {
        const amendments = db.createObjectStore('amendments', { keyPath: 'target' });
        amendments.createIndex('by-room-version', ['room', 'version']);
        const claims = db.createObjectStore('outboxClaims');
        // Whatever an older version queued may have been sent already (its ack lost, or cut
        // off by the update's reload): none of it may be changed in place.
        const last = await transaction.objectStore('outbox').openCursor(null, 'prev');
        if (last) await claims.put(last.key, 'claimed');
      }
      if (oldVersion < 3) {
        transaction.objectStore('messages').createIndex('by-room-order', ['room', 'order']);
        const meta = db.createObjectStore('roomMeta', { keyPath: 'room' });
        // Every room this device followed before the list existed is in it, named by its id,
        // and read up to what it holds: it was on screen then, and counting a whole history
        // as unread would bury what comes next.
        for (const record of await transaction.objectStore('rooms').getAll()) {
          await meta.put({ ...newRoomMeta(record.room, record.room, 0), read: record.cursor });
        }
      }
    },
    blocked() {
      options.onBlocked?.();
    },
    blocking(_current, _next, event) {
      (event.target as IDBDatabase).close();
      options.onVersionChange?.();
    },
    terminated() {
      options.onClosed?.();
    },
  });
}
