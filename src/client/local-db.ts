import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Identity, LocalMessage, OutboxEntry, RoomRecord } from './types.ts';

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
    indexes: { 'by-room': string; 'by-room-seq': [string, number] };
  };
  rooms: { key: string; value: RoomRecord };
  session: { key: 'identity'; value: Identity };
}

export type FerryDB = IDBPDatabase<FerryDBSchema>;

export const DB_VERSION = 1;

export interface OpenOptions {
  /**
   * Another tab holds an older version open and has not closed it yet. The upgrade waits
   * for it; the app tells the user to close the other tab.
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
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('outbox', { keyPath: 'key', autoIncrement: true });
        const messages = db.createObjectStore('messages', { keyPath: 'id' });
        messages.createIndex('by-room', 'room');
        // Pending and failed messages have no seq, so this index holds sent ones only.
        messages.createIndex('by-room-seq', ['room', 'seq']);
        db.createObjectStore('rooms', { keyPath: 'room' });
        db.createObjectStore('session');
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
