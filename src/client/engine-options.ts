import type { BatchCaps } from './batch-plan.ts';
import type { ConnectionOptions } from './connection.ts';
import type { Locks } from './locks.ts';
import type { ProfileChannel } from './profile-channel.ts';

/** What an Engine is made with: its database, the connection's options, and its callbacks. */

/** The IndexedDB database of a browser profile, unless the caller names another. */
export const DEFAULT_DB_NAME = 'ferry';

/** One "load older" page. */
export const OLDER_PAGE_MESSAGES = 100;

/**
 * A room opens with this many of its newest messages read from the device, and its view
 * goes back to them when the user is back at the newest: memory follows the window, not
 * the room.
 */
export const WINDOW_MESSAGES = 200;

/**
 * A room with more unread messages than its window holds opens with all of them, up to
 * this many, so that the "new messages" line sits above the first one; past it, the line
 * goes above the oldest the window holds and the reader pages older ones in by scrolling.
 */
export const UNREAD_WINDOW_MAX = 1_000;

/** Why this tab's engine stopped for good: its database is gone from under it. */
export type StorageLoss = 'version_change' | 'closed';

export interface EngineOptions extends Omit<ConnectionOptions, 'auth' | 'onRefused'> {
  /** IndexedDB database name; one per user profile (tests use one per simulated device). */
  dbName?: string;
  maxWindowBatches?: number;
  batchCaps?: BatchCaps;
  historyPageSize?: number;
  /** See WINDOW_MESSAGES (the chaos suite, which checks whole rooms, sets Infinity). */
  windowMessages?: number;
  /** Another tab holds the database at an older version; see local-db.ts. */
  onStorageBlocked?: () => void;
  /** A newer version in another tab upgraded the database; this tab should reload. */
  onStorageVersionChange?: () => void;
  /** The browser closed the database; this tab can no longer keep anything and should reload. */
  onStorageClosed?: () => void;
  /** The other tabs of this profile; a BroadcastChannel named after the database by default. */
  channel?: ProfileChannel;
  /**
   * Web Locks, which elect the one tab that sends and let one tab at a time sign up:
   * `navigator.locks` by default where the platform has it. null (or a platform without
   * them) makes every tab send, each one the whole outbox.
   */
  locks?: Locks | null;
  /**
   * Messages wait with no link to carry them: one was queued while this tab is not
   * connected, the link dropped with the outbox not empty, or the page was hidden with the
   * outbox not empty. The app asks the service
   * worker for a Background Sync then, so that closing the page needs no last-moment work.
   */
  onOutboxWaiting?: () => void;
}
