import type { IDBPObjectStore, StoreNames } from 'idb';
import { type FerryDB, type FerryDBSchema, type OpenOptions, openFerryDb } from './local-db.ts';
import type {
  FailedMessage,
  Identity,
  LocalMessage,
  OutboxEntry,
  PendingMessage,
  RoomRecord,
  SentMessage,
} from './types.ts';

/** Everything one server answer changes, written in a single transaction. */
export interface Commit {
  /** Messages the server stored: put as `sent` (idempotent: the server's data never changes). */
  sent?: readonly SentMessage[];
  /** Messages the server refused for good. */
  failed?: readonly FailedMessage[];
  /** Outbox entries that are settled (acked, or seen as sent) and must not be sent again. */
  settledOutboxKeys?: readonly number[];
  /** The room's new cursor and floor. */
  room?: RoomRecord;
}

/** What a room holds locally when it is opened. */
export interface StoredRoom {
  record: RoomRecord | undefined;
  messages: LocalMessage[];
}

/**
 * The device's durable state, in IndexedDB. Every method is one transaction, so a reload
 * or a killed tab leaves either all of a change or none of it.
 */
export class LocalStore {
  readonly #db: FerryDB;

  private constructor(db: FerryDB) {
    this.#db = db;
  }

  static async open(name: string, options?: OpenOptions): Promise<LocalStore> {
    return new LocalStore(await openFerryDb(name, options));
  }

  /**
   * Queues a message at the end of the outbox (a new one, or a failed one retried): the
   * outbox entry and its pending echo are written together.
   */
  async enqueue(
    message: Omit<PendingMessage, 'status' | 'order'> | FailedMessage,
  ): Promise<PendingMessage> {
    const { id, room, body, author, createdAt } = message;
    const tx = this.#db.transaction(['outbox', 'messages'], 'readwrite');
    const key = await tx.objectStore('outbox').add({ id, room, body, author, createdAt });
    const pending: PendingMessage = {
      id,
      room,
      body,
      author,
      authorId: message.authorId,
      createdAt,
      status: 'pending',
      order: key,
    };
    await Promise.all([tx.objectStore('messages').put(pending), tx.done]);
    return pending;
  }

  /** Up to `limit` outbox entries after `afterKey`, in outbox order. */
  async readOutbox(afterKey: number, limit: number): Promise<OutboxEntry[]> {
    // One getAll request rather than a cursor step per entry: far fewer round trips into
    // IndexedDB (see docs/benchmarks.md, outbox flush).
    const stored = await this.#db.getAll('outbox', IDBKeyRange.lowerBound(afterKey, true), limit);
    // Entries queued by versions before 0.2 carry no author or typing time.
    return stored.map((entry) => ({
      ...entry,
      key: entry.key ?? 0,
      author: entry.author ?? '',
      createdAt: entry.createdAt ?? 0,
    }));
  }

  async outboxCount(): Promise<number> {
    return this.#db.count('outbox');
  }

  async commit(change: Commit): Promise<void> {
    const tx = this.#db.transaction(['outbox', 'messages', 'rooms'], 'readwrite');
    const messages = tx.objectStore('messages');
    const outbox = tx.objectStore('outbox');
    const writes: Promise<unknown>[] = [];
    for (const range of keyRuns(change.settledOutboxKeys ?? [])) writes.push(outbox.delete(range));
    for (const message of change.sent ?? []) writes.push(messages.put(message));
    for (const message of change.failed ?? []) writes.push(putUnlessSent(messages, message));
    if (change.room) writes.push(tx.objectStore('rooms').put(change.room));
    writes.push(tx.done);
    await Promise.all(writes);
  }

  async loadRoom(room: string): Promise<StoredRoom> {
    const tx = this.#db.transaction(['messages', 'rooms']);
    const [messages, record] = await Promise.all([
      tx.objectStore('messages').index('by-room').getAll(room),
      tx.objectStore('rooms').get(room),
      tx.done,
    ]);
    return { record, messages };
  }

  /** The stored messages with these ids (undefined for one that is gone), in one read. */
  async getMessages(ids: readonly string[]): Promise<(LocalMessage | undefined)[]> {
    const tx = this.#db.transaction('messages');
    const found = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    return found;
  }

  async deleteMessage(id: string): Promise<void> {
    await this.#db.delete('messages', id);
  }

  async getIdentity(): Promise<Identity | undefined> {
    return this.#db.get('session', 'identity');
  }

  async setIdentity(identity: Identity): Promise<void> {
    await this.#db.put('session', identity, 'identity');
  }

  /**
   * Reads the stored identity and replaces it with `change(stored)` in one transaction, so
   * tabs of one profile that do this at once see each other's writes (IndexedDB runs
   * read-write transactions on one store one after another). Answers what is stored now.
   */
  async updateIdentity(
    change: (stored: Identity | undefined) => Identity | undefined,
  ): Promise<Identity | undefined> {
    const tx = this.#db.transaction('session', 'readwrite');
    const store = tx.objectStore('session');
    const stored = await store.get('identity');
    const next = change(stored);
    if (next && next !== stored) await store.put(next, 'identity');
    await tx.done;
    return next;
  }

  close(): void {
    this.#db.close();
  }
}

type StoreName = StoreNames<FerryDBSchema>;

/**
 * A refusal of a message the server already stored (a resend racing another tab's, say)
 * says nothing about the stored message: `sent` is final, and is never overwritten.
 */
async function putUnlessSent(
  messages: IDBPObjectStore<FerryDBSchema, ArrayLike<StoreName>, 'messages', 'readwrite'>,
  message: FailedMessage,
): Promise<void> {
  const stored = await messages.get(message.id);
  if (stored?.status !== 'sent') await messages.put(message);
}

/**
 * Outbox keys as ranges of consecutive integers, so that settling a batch deletes its
 * entries with a request per run instead of one per key. A run holds only keys from the
 * list: between consecutive integers there is no other key to catch by mistake.
 */
function keyRuns(keys: readonly number[]): IDBKeyRange[] {
  const sorted = [...keys].sort((a, b) => a - b);
  const runs: IDBKeyRange[] = [];
  let start = sorted[0];
  for (let i = 0; start !== undefined && i < sorted.length; i++) {
    const key = sorted[i] as number;
    const next = sorted[i + 1];
    if (next === key + 1 || next === key) continue;
    runs.push(IDBKeyRange.bound(start, key));
    start = next;
  }
  return runs;
}
