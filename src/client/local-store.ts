import type { IDBPIndex, IDBPObjectStore, StoreNames } from 'idb';
import type { StoredOp } from '../shared/protocol.ts';
import type { BatchPlan } from './batch-plan.ts';
import { type FerryDB, type FerryDBSchema, type OpenOptions, openFerryDb } from './local-db.ts';
import { amend, applyOp, mergeCopy, withAmendment } from './message-state.ts';
import { unreadAfter } from './room-meta.ts';
import type {
  FailedMessage,
  Identity,
  LocalMessage,
  MessageError,
  OutboxEntry,
  PendingMessage,
  RoomMeta,
  RoomRecord,
  SentMessage,
} from './types.ts';

/**
 * An unread count reads at most this many times its cap above the read cursor: enough to
 * see past a burst of the user's own messages there, and still one bounded read a room.
 */
const UNREAD_SCAN_FACTOR = 4;

/**
 * A room whose unread messages go past its window opens with them all (up to a bound) and
 * this many read ones above the "new messages" line, for context.
 */
export const UNREAD_CONTEXT = 20;

/** An edit or delete typed here that the server refused for good. */
export interface FailedOp {
  /** The operation's id. */
  id: string;
  target: string;
  error: MessageError;
}

/** Everything one server answer changes, written in a single transaction. */
export interface Commit {
  /**
   * Messages the server stored, put as `sent` over what the device holds of them: the later
   * state of each wins (see message-state.ts), so a repeat or an older copy changes nothing.
   */
  sent?: readonly SentMessage[];
  /**
   * Which of `sent` this device may hold as pending or failed (its own, coming back): they
   * are looked up by id. The others are looked up by seq, one read for the lot.
   */
  localIds?: ReadonlySet<string>;
  /** Edits and deletes from the room log, applied to their messages (or kept for later). */
  ops?: readonly StoredOp[];
  /** Edits and deletes typed here that the server refused for good. */
  failedOps?: readonly FailedOp[];
  /** Messages the server refused for good. */
  failed?: readonly FailedMessage[];
  /** Outbox entries that are settled (acked, or seen as sent) and must not be sent again. */
  settledOutboxKeys?: readonly number[];
  /** The room's new cursor and floor. */
  room?: RoomRecord;
}

/** What a commit changed (see LocalStore.commit). */
export interface CommitResult {
  changed: LocalMessage[];
  removed: string[];
}

/** Who typed an edit or delete, and when: its outbox entry carries both. */
export interface OpOrigin {
  /** The operation's own id. */
  id: string;
  author: string;
  createdAt: number;
}

/** What a room holds locally when it is opened (see LocalStore.loadWindow). */
export interface StoredWindow {
  record: RoomRecord | undefined;
  meta: RoomMeta | undefined;
  /** The newest sent messages, ascending by seq. */
  sent: SentMessage[];
  /** Every pending and failed message of the room. */
  local: LocalMessage[];
  /** Nothing sent is stored below `sent`. */
  full: boolean;
}

/** Older sent messages read from the device (see LocalStore.loadBelow). */
export interface OlderSent {
  /** Ascending by seq. */
  sent: SentMessage[];
  /** Nothing sent is stored below them. */
  exhausted: boolean;
}

/** A room of the list as the device holds it (see LocalStore.roomSummaries). */
export interface StoredSummary {
  meta: RoomMeta;
  /** The newest message, sent or typed here. */
  last: LocalMessage | undefined;
  /** Messages of others above the read cursor, up to the cap asked. */
  unread: number;
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
    return stored.map(withDefaults);
  }

  async outboxCount(): Promise<number> {
    return this.#db.count('outbox');
  }

  /**
   * Reads the outbox after `afterKey` and plans a batch from it, and records in the same
   * transaction that the batch's entries may have left the device. An entry past the
   * highest key ever claimed has not, so an edit or delete of it can still change it in
   * place (queueEdit, queueDelete); one at or below may be on the server already.
   */
  async claimBatch(
    afterKey: number,
    limit: number,
    plan: (candidates: OutboxEntry[]) => BatchPlan,
  ): Promise<BatchPlan> {
    const tx = this.#db.transaction(['outbox', 'outboxClaims'], 'readwrite');
    const [stored, claimed = 0] = await Promise.all([
      tx.objectStore('outbox').getAll(IDBKeyRange.lowerBound(afterKey, true), limit),
      tx.objectStore('outboxClaims').get('claimed'),
    ]);
    const planned = plan(stored.map(withDefaults));
    const last =
      planned.kind === 'batch'
        ? planned.entries.at(-1)?.key
        : planned.kind === 'oversize'
          ? planned.entry.key
          : undefined;
    if (last !== undefined && last > claimed) tx.objectStore('outboxClaims').put(last, 'claimed');
    await tx.done;
    return planned;
  }

  /**
   * Records what the server said, in one transaction. Answers the messages it touched as
   * they now stand (put, edited, deleted, refused an operation), and the ids it removed (a
   * refused message whose delete was queued behind it).
   */
  async commit(change: Commit): Promise<CommitResult> {
    const tx = this.#db.transaction(['outbox', 'messages', 'rooms', 'amendments'], 'readwrite');
    const messages = tx.objectStore('messages');
    const outbox = tx.objectStore('outbox');
    const amendments = tx.objectStore('amendments');
    const writes: Promise<unknown>[] = [];
    const settledKeys = [...(change.settledOutboxKeys ?? [])];
    const touched = new Map<string, LocalMessage>();
    const removed: string[] = [];
    const put = (message: LocalMessage) => {
      touched.set(message.id, message);
      writes.push(messages.put(message));
    };
    const read = async (id: string) => touched.get(id) ?? (await messages.get(id));
    const anyAmendment = (await amendments.count()) > 0;

    const sent = change.sent ?? [];
    if (sent.length > 0) {
      const [stored, amended] = await Promise.all([
        storedCopies(messages, sent, change.localIds),
        anyAmendment ? Promise.all(sent.map((message) => amendments.get(message.id))) : [],
      ]);
      sent.forEach((message, index) => {
        let merged = mergeCopy(stored[index], message);
        const amendment = amended[index];
        if (amendment) {
          merged = withAmendment(merged, amendment);
          writes.push(amendments.delete(amendment.target));
        }
        put(merged);
      });
    }
    for (const message of change.failed ?? []) {
      const stored = await read(message.id);
      // A refusal of a message the server already stored (a resend racing another tab's,
      // say) says nothing about the stored message: `sent` is final.
      if (stored?.status === 'sent') continue;
      // What was typed behind it is folded in, since it can never apply on the server: the
      // failed message shows (and a retry sends) the edited text; a delete discards it.
      const op = stored?.pendingOp;
      if (op) settledKeys.push(op.key);
      if (op?.kind === 'delete') {
        writes.push(messages.delete(message.id));
        removed.push(message.id);
        continue;
      }
      put({ ...message, body: op?.kind === 'edit' ? op.body : message.body });
    }
    for (const op of change.ops ?? []) {
      const target = await read(op.target);
      const typedHere = target?.pendingOp?.id === op.id ? target.pendingOp : undefined;
      if (typedHere) settledKeys.push(typedHere.key);
      if (target?.status === 'sent') {
        const applied = applyOp(target, op);
        put(typedHere ? withoutPendingOp(applied) : applied);
        continue;
      }
      if (target && typedHere) put(withoutPendingOp(target));
      writes.push(amendments.put(amend(await amendments.get(op.target), op)));
    }
    for (const failedOp of change.failedOps ?? []) {
      const target = await read(failedOp.target);
      const typedHere = target?.pendingOp?.id === failedOp.id;
      // On a message that is not on the server either, the operation was folded into it.
      if (!target || (target.status !== 'sent' && !typedHere)) continue;
      put({ ...(typedHere ? withoutPendingOp(target) : target), opError: failedOp.error });
    }
    for (const range of keyRuns(settledKeys)) writes.push(outbox.delete(range));
    if (change.room) {
      writes.push(tx.objectStore('rooms').put(change.room));
      // Every seq up to the cursor is held: a message an operation up to it named and that
      // has not arrived is older than the room's floor, and comes from the server (in its
      // latest state) when the user scrolls up. Its amendment is no longer needed.
      if (anyAmendment) {
        const { room, cursor } = change.room;
        const range = IDBKeyRange.bound([room, 0], [room, cursor]);
        for (const key of await amendments.index('by-room-version').getAllKeys(range)) {
          writes.push(amendments.delete(key));
        }
      }
    }
    writes.push(tx.done);
    await Promise.all(writes);
    return { changed: [...touched.values()], removed };
  }

  /**
   * Queues an edit of the message `id` and answers the message as it now stands. A pending
   * message that never left the device is rewritten in place, and so is an edit of it still
   * waiting unsent; a failed one goes back in the outbox with the new text; otherwise the
   * edit joins the end of the outbox.
   */
  async queueEdit(id: string, body: string, origin: OpOrigin): Promise<LocalMessage | undefined> {
    return this.#changeQueued(id, async ({ message, outbox, claimed }) => {
      if (message.status === 'failed') {
        // Back in the outbox with the new text, as a retry does, decided in this transaction:
        // another tab may have retried it a moment ago, and then it is pending, not failed.
        const { id: _id, room, author, createdAt, authorId } = message;
        const order = await outbox.add({ id, room, body, author, createdAt });
        return { id, room, author, authorId, createdAt, body, status: 'pending', order };
      }
      if (message.status === 'pending' && message.order > claimed) {
        const entry = await outbox.get(message.order);
        if (entry) {
          await outbox.put({ ...entry, body });
          return { ...message, body };
        }
      }
      const op = message.pendingOp;
      if (op?.kind === 'edit' && op.key > claimed) {
        const entry = await outbox.get(op.key);
        if (entry) {
          await outbox.put({ ...entry, body });
          return { ...message, pendingOp: { ...op, body } };
        }
      }
      const entry = opEntry(message, origin, { kind: 'edit', target: id }, body);
      const key = await outbox.add(entry);
      return { ...message, pendingOp: { kind: 'edit', id: origin.id, key, body } };
    });
  }

  /**
   * Queues a delete of the message `id`. A pending message that never left the device is
   * taken out of the outbox, with anything queued for it, and a failed one is discarded:
   * both are answered undefined, and the server never sees them. An edit of it waiting
   * unsent becomes the delete (its body gone with it); otherwise the delete joins the end
   * of the outbox.
   */
  async queueDelete(id: string, origin: OpOrigin): Promise<LocalMessage | undefined> {
    return this.#changeQueued(id, async ({ message, outbox, messages, claimed }) => {
      if (message.status === 'failed') {
        await messages.delete(id);
        return undefined;
      }
      if (message.status === 'pending' && message.order > claimed) {
        const entry = await outbox.get(message.order);
        if (entry) {
          await outbox.delete(message.order);
          if (message.pendingOp) await outbox.delete(message.pendingOp.key);
          await messages.delete(id);
          return undefined;
        }
      }
      const op = message.pendingOp;
      if (op && op.key > claimed) {
        const entry = await outbox.get(op.key);
        if (entry) {
          await outbox.put({ ...entry, body: '', op: { kind: 'delete', target: id } });
          return { ...message, pendingOp: { kind: 'delete', id: op.id, key: op.key } };
        }
      }
      const entry = opEntry(message, origin, { kind: 'delete', target: id }, '');
      const key = await outbox.add(entry);
      return { ...message, pendingOp: { kind: 'delete', id: origin.id, key } };
    });
  }

  /**
   * One transaction over the outbox and the message `id`: `change` answers the message as
   * it should be stored (undefined when it is gone), after queuing its writes.
   */
  async #changeQueued(
    id: string,
    change: (parts: {
      message: LocalMessage;
      outbox: OutboxStore;
      messages: MessagesStore;
      claimed: number;
    }) => Promise<LocalMessage | undefined>,
  ): Promise<LocalMessage | undefined> {
    const tx = this.#db.transaction(['outbox', 'outboxClaims', 'messages'], 'readwrite');
    const messages = tx.objectStore('messages');
    const [message, claimed = 0] = await Promise.all([
      messages.get(id),
      tx.objectStore('outboxClaims').get('claimed'),
    ]);
    if (!message) {
      await tx.done;
      return undefined;
    }
    // A new edit or delete replaces the refusal of the last one.
    const { opError: _opError, ...fresh } = message;
    const changed = await change({
      message: fresh,
      outbox: tx.objectStore('outbox'),
      messages,
      claimed,
    });
    if (changed) await messages.put(changed);
    await tx.done;
    return changed;
  }

  /**
   * A room as it opens: its newest `limit` sent messages (read through the seq index from
   * the end, so a room of 100,000 costs what one of 200 does), or more when more than that
   * is unread (every unread message and `UNREAD_CONTEXT` read ones above, up to
   * `unreadMax`), every pending and failed one, its record and its place in the list.
   * `full` says the device holds no sent message below those answered.
   */
  async loadWindow(room: string, limit: number, unreadMax = limit): Promise<StoredWindow> {
    const tx = this.#db.transaction(['messages', 'rooms', 'roomMeta']);
    const messages = tx.objectStore('messages');
    const [local, record, meta] = await Promise.all([
      messages.index('by-room-order').getAll(roomRange(room)),
      tx.objectStore('rooms').get(room),
      tx.objectStore('roomMeta').get(room),
    ]);
    const unread = record && meta ? record.cursor - unreadAfter(meta) : 0;
    const wanted = Math.max(limit, Math.min(unreadMax, unread + UNREAD_CONTEXT));
    const [newest] = await Promise.all([
      newestSent(messages.index('by-room-seq'), room, Number.POSITIVE_INFINITY, wanted),
      tx.done,
    ]);
    return { record, meta, sent: newest.sent, local, full: newest.exhausted };
  }

  /**
   * Up to `limit` sent messages of the room just below `beforeSeq`, ascending; `exhausted`
   * once nothing older is on the device.
   */
  async loadBelow(room: string, beforeSeq: number, limit: number): Promise<OlderSent> {
    const tx = this.#db.transaction('messages');
    const [older] = await Promise.all([
      newestSent(tx.store.index('by-room-seq'), room, beforeSeq, limit),
      tx.done,
    ]);
    return older;
  }

  /** The rooms in the list. */
  async roomMetas(): Promise<RoomMeta[]> {
    return this.#db.getAll('roomMeta');
  }

  /** A room's list entry; undefined once it left the list. */
  async roomMeta(room: string): Promise<RoomMeta | undefined> {
    return this.#db.get('roomMeta', room);
  }

  /**
   * Reads a room's list entry and replaces it with `change(stored)` in one transaction, so
   * tabs that raise a cursor at once each see the other's write. Answers what is stored now.
   */
  async updateRoomMeta(
    room: string,
    change: (stored: RoomMeta | undefined) => RoomMeta | undefined,
  ): Promise<RoomMeta | undefined> {
    const tx = this.#db.transaction('roomMeta', 'readwrite');
    const stored = await tx.store.get(room);
    const next = change(stored);
    if (next && next !== stored) await tx.store.put(next);
    await tx.done;
    return next;
  }

  /**
   * What the room list shows of each room: its newest message (sent, or typed here) and
   * how many messages of others lie above the user's read cursor, counted up to
   * `unreadCap` (one bounded read per room, never the whole room).
   */
  async roomSummaries(me: string, unreadCap: number): Promise<StoredSummary[]> {
    const tx = this.#db.transaction(['messages', 'roomMeta']);
    const messages = tx.objectStore('messages');
    const bySeq = messages.index('by-room-seq');
    const byOrder = messages.index('by-room-order');
    const metas = await tx.objectStore('roomMeta').getAll();
    const summaries = await Promise.all(
      metas.map(async (meta): Promise<StoredSummary> => {
        const range = roomRange(meta.room);
        const [lastSent, lastLocal, above] = await Promise.all([
          bySeq.openCursor(range, 'prev'),
          byOrder.openCursor(range, 'prev'),
          // The user's own messages above the cursor are not unread: read past a burst of them.
          bySeq.getAll(
            IDBKeyRange.bound([meta.room, unreadAfter(meta) + 1], [meta.room, Infinity]),
            unreadCap * UNREAD_SCAN_FACTOR,
          ),
        ]);
        const others = above.filter((message) => message.authorId !== me).length;
        const unread = Math.min(unreadCap, others);
        return { meta, last: latestOf(lastSent?.value, lastLocal?.value), unread };
      }),
    );
    await tx.done;
    return summaries;
  }

  /**
   * Takes a room off this device: its messages, what it queued (never sent now), its
   * edits heard early, its record and its list entry, in one transaction. Answers how many
   * outbox entries went with it.
   */
  async forgetRoom(room: string): Promise<number> {
    const tx = this.#db.transaction(
      ['messages', 'outbox', 'amendments', 'rooms', 'roomMeta'],
      'readwrite',
    );
    const messages = tx.objectStore('messages');
    const outbox = tx.objectStore('outbox');
    const amendments = tx.objectStore('amendments');
    const [ids, queued, amended] = await Promise.all([
      messages.index('by-room').getAllKeys(room),
      outbox.getAll(),
      amendments.index('by-room-version').getAllKeys(roomRange(room)),
    ]);
    const dropped = queued.filter((entry) => entry.room === room);
    await Promise.all([
      ...ids.map((id) => messages.delete(id)),
      ...dropped.map((entry) => outbox.delete(entry.key ?? 0)),
      ...amended.map((key) => amendments.delete(key)),
      tx.objectStore('rooms').delete(room),
      tx.objectStore('roomMeta').delete(room),
      tx.done,
    ]);
    return dropped.length;
  }

  /** The stored messages with these ids (undefined for one that is gone), in one read. */
  async getMessages(ids: readonly string[]): Promise<(LocalMessage | undefined)[]> {
    const tx = this.#db.transaction('messages');
    const found = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    return found;
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
type Writable<Name extends StoreName> = IDBPObjectStore<
  FerryDBSchema,
  ArrayLike<StoreName>,
  Name,
  'readwrite'
>;
type OutboxStore = Writable<'outbox'>;
type MessagesStore = Writable<'messages'>;
type StoredEntry = FerryDBSchema['outbox']['value'];

/**
 * An outbox entry as read back: entries queued by versions before 0.2 carry no author or
 * typing time.
 */
function withDefaults(entry: StoredEntry): OutboxEntry {
  return {
    ...entry,
    key: entry.key ?? 0,
    author: entry.author ?? '',
    createdAt: entry.createdAt ?? 0,
  };
}

/**
 * Seqs a range read may span per message asked: past it (messages far apart in one commit,
 * held ones around a hole), each is read by id instead of reading every row between them.
 */
const RANGE_READ_SPAN = 4;

/**
 * What the device holds of each of `sent`, in order. A page of history is mostly new: one
 * read of its seq range over the room's index costs one request, where a read per message
 * cost a page of them (and half the speed of a catch-up).
 */
async function storedCopies(
  messages: MessagesStore,
  sent: readonly SentMessage[],
  localIds: ReadonlySet<string> | undefined,
): Promise<(LocalMessage | undefined)[]> {
  const found = new Map<string, LocalMessage>();
  const byId: string[] = [];
  const byRoom = new Map<string, SentMessage[]>();
  for (const message of sent) {
    if (localIds?.has(message.id)) byId.push(message.id);
    else {
      const group = byRoom.get(message.room);
      if (group) group.push(message);
      else byRoom.set(message.room, [message]);
    }
  }
  const ranges: IDBKeyRange[] = [];
  for (const [room, group] of byRoom) {
    const seqs = group.map((message) => message.seq);
    const low = Math.min(...seqs);
    const high = Math.max(...seqs);
    if (high - low + 1 <= RANGE_READ_SPAN * group.length) {
      ranges.push(IDBKeyRange.bound([room, low], [room, high]));
    } else byId.push(...group.map((message) => message.id));
  }
  const index = messages.index('by-room-seq');
  await Promise.all([
    ...ranges.map(async (range) => {
      for (const row of await index.getAll(range)) found.set(row.id, row);
    }),
    ...byId.map(async (id) => {
      const row = await messages.get(id);
      if (row) found.set(id, row);
    }),
  ]);
  return sent.map((message) => found.get(message.id));
}

/** Every key of `room` in a [room, number] index. */
function roomRange(room: string): IDBKeyRange {
  return IDBKeyRange.bound([room, Number.NEGATIVE_INFINITY], [room, Number.POSITIVE_INFINITY]);
}

type SeqIndex = IDBPIndex<FerryDBSchema, ArrayLike<StoreName>, 'messages', 'by-room-seq'>;

/**
 * Up to `limit` sent messages of `room` below `beforeSeq`, ascending. IndexedDB reads a
 * range in one request only forwards, so this asks for the `limit` seqs under the highest
 * one below `beforeSeq` (seqs on a device are contiguous but for holes a catch-up is
 * filling), and steps down again only past a hole: two requests, whatever the room's size.
 */
async function newestSent(
  index: SeqIndex,
  room: string,
  beforeSeq: number,
  limit: number,
): Promise<OlderSent> {
  const found: SentMessage[][] = [];
  let wanted = limit;
  let below = beforeSeq;
  while (wanted > 0) {
    const top = await index.openKeyCursor(
      IDBKeyRange.bound([room, Number.NEGATIVE_INFINITY], [room, below], false, true),
      'prev',
    );
    if (!top) return { sent: found.reverse().flat(), exhausted: true };
    const high = top.key[1];
    const rows = (await index.getAll(
      IDBKeyRange.bound([room, high - wanted + 1], [room, high]),
    )) as SentMessage[];
    found.push(rows);
    wanted -= rows.length;
    below = rows[0]?.seq ?? high;
  }
  return { sent: found.reverse().flat(), exhausted: false };
}

/** The later of a room's newest sent message and its newest typed here. */
function latestOf(
  sent: LocalMessage | undefined,
  local: LocalMessage | undefined,
): LocalMessage | undefined {
  if (!sent || !local) return sent ?? local;
  const sentAt = sent.status === 'sent' ? sent.ts : 0;
  const typedAt = local.status === 'sent' ? local.ts : local.createdAt;
  return typedAt >= sentAt ? local : sent;
}

/** The outbox entry of an edit or delete of `message`. */
function opEntry(
  message: LocalMessage,
  origin: OpOrigin,
  op: NonNullable<OutboxEntry['op']>,
  body: string,
): StoredEntry {
  return {
    id: origin.id,
    room: message.room,
    body,
    author: origin.author,
    createdAt: origin.createdAt,
    op,
  };
}

function withoutPendingOp<Message extends LocalMessage>(message: Message): Message {
  const { pendingOp: _pendingOp, ...rest } = message;
  return rest as Message;
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
