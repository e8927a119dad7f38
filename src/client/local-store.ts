import { type FerryDB, type OpenOptions, openFerryDb } from './local-db.ts';
import type {
  FailedMessage,
  Identity,
  LocalMessage,
  OutboxEntry,
  PendingMessage,
  RoomRecord,
  SentMessage,
} from './types.ts';

/** Caps for one outbox batch. */
export interface BatchCaps {
  maxMessages: number;
  /** Upper bound on body bytes (estimated as 3 bytes per UTF-16 unit, UTF-8's worst case). */
  maxBodyBytes: number;
}

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

  /** Queues a message: the outbox entry and its pending echo are written together. */
  async enqueue(message: Omit<PendingMessage, 'status' | 'order'>): Promise<PendingMessage> {
    const tx = this.#db.transaction(['outbox', 'messages'], 'readwrite');
    const key = await tx
      .objectStore('outbox')
      .add({ id: message.id, room: message.room, body: message.body });
    const pending: PendingMessage = { ...message, status: 'pending', order: key };
    await Promise.all([tx.objectStore('messages').put(pending), tx.done]);
    return pending;
  }

  /**
   * The next batch in outbox order after `afterKey`: consecutive entries of one room, up to
   * the caps (the first entry always fits, so a batch is never empty while entries remain).
   */
  async readOutboxBatch(afterKey: number, caps: BatchCaps): Promise<OutboxEntry[]> {
    const batch: OutboxEntry[] = [];
    let bytes = 0;
    // One getAll request rather than a cursor step per entry: far fewer round trips into
    // IndexedDB (see docs/benchmarks.md, outbox flush).
    const candidates = await this.#db.getAll(
      'outbox',
      IDBKeyRange.lowerBound(afterKey, true),
      caps.maxMessages,
    );
    for (const candidate of candidates) {
      const entry = candidate as OutboxEntry;
      const size = entry.body.length * 3;
      const first = batch[0];
      if (
        first &&
        (entry.room !== first.room ||
          batch.length >= caps.maxMessages ||
          bytes + size > caps.maxBodyBytes)
      ) {
        break;
      }
      batch.push(entry);
      bytes += size;
    }
    return batch;
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
    for (const message of change.failed ?? []) writes.push(messages.put(message));
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

  /** Seqs stored above `cursor` in the room: the islands past a gap. */
  async seqsAbove(room: string, cursor: number): Promise<number[]> {
    const range = IDBKeyRange.bound([room, cursor + 1], [room, Number.POSITIVE_INFINITY]);
    const messages = await this.#db.getAllFromIndex('messages', 'by-room-seq', range);
    return messages.flatMap((message) => (message.status === 'sent' ? [message.seq] : []));
  }

  /** Puts a failed message back in the outbox, at the end, as pending. */
  async requeue(message: FailedMessage): Promise<PendingMessage> {
    const tx = this.#db.transaction(['outbox', 'messages'], 'readwrite');
    const key = await tx
      .objectStore('outbox')
      .add({ id: message.id, room: message.room, body: message.body });
    const { error: _error, ...rest } = message;
    const pending: PendingMessage = { ...rest, status: 'pending', order: key };
    await Promise.all([tx.objectStore('messages').put(pending), tx.done]);
    return pending;
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

  close(): void {
    this.#db.close();
  }
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
