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

/** Opens (creating or upgrading) the local database. */
export function openFerryDb(name: string, options: OpenOptions = {}): Promise<FerryDB> {
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
