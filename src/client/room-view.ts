import type { FailedMessage, LocalMessage, PendingMessage, SentMessage } from './types.ts';

/** Total order of sent messages: by server timestamp, then id (ts grows with seq). */
export function compareSent(a: SentMessage, b: SentMessage): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Merges `incoming` into the sorted, duplicate-free `existing`, returning a new array.
 * Two copies of one message compare equal (same ts and id) and the incoming one stays: it
 * is the newer state (an edit, a delete) as the local store merged it. Costs O(k log k)
 * for k incoming plus one pass over the part of `existing` at or after the first incoming
 * message; a page that lands after
 * everything (the usual case) costs O(k) plus one array copy.
 */
export function mergeSent(
  existing: readonly SentMessage[],
  incoming: readonly SentMessage[],
): SentMessage[] {
  if (incoming.length === 0) return existing.slice();
  const sorted = incoming.slice().sort(compareSent);
  const first = sorted[0] as SentMessage;
  const start = lowerBound(existing, first);
  if (start === existing.length) {
    // Everything lands after the view: one `concat` copies `existing` once, where
    // slice-then-push copies it twice (the push outgrows the slice's capacity).
    return existing.concat(withoutRepeats(sorted));
  }
  const result = existing.slice(0, start);
  let i = start;
  let j = 0;
  while (i < existing.length || j < sorted.length) {
    const a = existing[i];
    const b = sorted[j];
    let next: SentMessage;
    if (a === undefined) next = sorted[j++] as SentMessage;
    else if (b === undefined) next = existing[i++] as SentMessage;
    else {
      const order = compareSent(a, b);
      if (order < 0) {
        next = a;
        i++;
      } else if (order === 0) {
        next = b;
        i++;
        j++;
      } else {
        next = b;
        j++;
      }
    }
    pushLatest(result, next);
  }
  return result;
}

/** Appends `message` to the sorted `result`, replacing a copy of it that ends it. */
function pushLatest(result: SentMessage[], message: SentMessage): void {
  const last = result[result.length - 1];
  if (last !== undefined && compareSent(last, message) === 0) result[result.length - 1] = message;
  else result.push(message);
}

/** `sorted` with one copy of each message, the last of its repeats (equal neighbours). */
function withoutRepeats(sorted: readonly SentMessage[]): SentMessage[] {
  const result: SentMessage[] = [];
  for (const message of sorted) pushLatest(result, message);
  return result;
}

/** First index in `sorted` whose message is not before `target`. */
function lowerBound(sorted: readonly SentMessage[], target: SentMessage): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareSent(sorted[mid] as SentMessage, target) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

type LocalOnly = PendingMessage | FailedMessage;

/** Up to this many local messages, `findLocal` scans instead of building an index. */
const LOCAL_SCAN_MAX = 16;

/**
 * One room as the user sees it: sent messages in (ts, id) order, then pending and failed
 * ones in the order they were typed. Immutable: every change returns a new view, so React
 * (useSyncExternalStore) sees a new snapshot exactly when something changed.
 */
export class RoomView {
  readonly sent: readonly SentMessage[];
  readonly local: readonly LocalOnly[];
  #all: readonly LocalMessage[] | null = null;
  #localById: Map<string, LocalOnly> | null = null;

  private constructor(sent: readonly SentMessage[], local: readonly LocalOnly[]) {
    this.sent = sent;
    this.local = local;
  }

  static empty(): RoomView {
    return new RoomView([], []);
  }

  static from(messages: readonly LocalMessage[]): RoomView {
    const sent: SentMessage[] = [];
    const local: LocalOnly[] = [];
    for (const message of messages) {
      if (message.status === 'sent') sent.push(message);
      else local.push(message);
    }
    local.sort((a, b) => a.order - b.order);
    return new RoomView(mergeSent([], sent), local);
  }

  /** Every message, in display order. */
  get messages(): readonly LocalMessage[] {
    this.#all ??= this.local.length === 0 ? this.sent : [...this.sent, ...this.local];
    return this.#all;
  }

  /**
   * A pending or failed message by id. Usually a handful, where a scan is cheapest; but a
   * phone back from a long time offline holds hundreds, and settling each acked batch looks
   * every one of them up, so past a few the view indexes them once (it is immutable).
   */
  findLocal(id: string): LocalOnly | undefined {
    if (this.local.length <= LOCAL_SCAN_MAX) return this.local.find((message) => message.id === id);
    this.#localById ??= new Map(this.local.map((message) => [message.id, message]));
    return this.#localById.get(id);
  }

  /**
   * Whether the server-confirmed part holds this id. A scan from the newest end: it is for
   * the rare message that another tab, or a racing resend, settled first.
   */
  hasSent(id: string): boolean {
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i]?.id === id) return true;
    return false;
  }

  /** Adds server-confirmed messages; a local echo of the same id becomes the sent message. */
  withSent(incoming: readonly SentMessage[]): RoomView {
    if (incoming.length === 0) return this;
    const ids = new Set(incoming.map((message) => message.id));
    const local = this.local.some((message) => ids.has(message.id))
      ? this.local.filter((message) => !ids.has(message.id))
      : this.local;
    return new RoomView(mergeSent(this.sent, incoming), local);
  }

  /** A message of the view by id, whatever its status. */
  find(id: string): LocalMessage | undefined {
    const local = this.findLocal(id);
    if (local) return local;
    for (let i = this.sent.length - 1; i >= 0; i--)
      if (this.sent[i]?.id === id) return this.sent[i];
    return undefined;
  }

  /**
   * Replaces the messages of the view that changed (edited, deleted, an operation typed or
   * refused); one the view does not show (older than what it holds) is left out.
   */
  withChanged(changed: readonly LocalMessage[]): RoomView {
    let view: RoomView = this;
    const sent: SentMessage[] = [];
    for (const message of changed) {
      if (message.status === 'sent') {
        if (view.hasSent(message.id)) sent.push(message);
      } else if (view.findLocal(message.id)) view = view.withLocal(message);
    }
    return sent.length === 0 ? view : new RoomView(mergeSent(view.sent, sent), view.local);
  }

  /** Adds or replaces a pending or failed message, keeping typing order. */
  withLocal(message: LocalOnly): RoomView {
    const others = this.local.filter((other) => other.id !== message.id);
    const at = others.findIndex((other) => other.order > message.order);
    const local =
      at === -1 ? [...others, message] : [...others.slice(0, at), message, ...others.slice(at)];
    return new RoomView(this.sent, local);
  }

  /** The view with only its newest `count` sent messages (and every local one). */
  keepNewest(count: number): RoomView {
    if (this.sent.length <= count) return this;
    return new RoomView(this.sent.slice(this.sent.length - count), this.local);
  }

  without(id: string): RoomView {
    return new RoomView(
      this.sent,
      this.local.filter((message) => message.id !== id),
    );
  }
}
