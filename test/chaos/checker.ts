/**
 * The chaos checker: a pure function from what happened (every `send()`, edit and delete
 * the workload made, the server's stored rooms, every member's final view, what each
 * device's engine counted) to counts of what went wrong. In the spirit of Jepsen's
 * total-queue checker (lost, duplicated, unexpected), plus order, convergence, gap, edit
 * and liveness checks for Ferry's promise (see docs/reliability.md).
 */

/** One `send()` call of the workload. */
export interface SendAttempt {
  /**
   * The device (browser profile) that typed it. Its tabs share one outbox and one author,
   * so they are one sender: the order to keep is the order of its `send()` calls.
   */
  sender: string;
  room: string;
  /** Position in the sender's sequence of `send()` calls: the order the server must keep. */
  index: number;
  /** Unique per attempt, so a body seen twice is a message delivered twice. */
  body: string;
  /**
   * The id `send()` resolved with: the message is promised. Null when `send()` rejected
   * (the engine went away mid-call): it may or may not exist, and either is fine.
   */
  id: string | null;
  /**
   * `delivered` for a valid body. `refused` for a body over the limit: the promise for it is
   * to end `failed` with `body_too_long` on its sender's device, never stored, never stuck.
   */
  expect: 'delivered' | 'refused';
}

/** One `edit()` or `deleteMessage()` call of the workload, in the order the sender typed them. */
export interface OpAttempt {
  sender: string;
  room: string;
  /** The id of the message changed: one the sender's `send()` promised. */
  target: string;
  kind: 'edit' | 'delete';
  /** An edit's new body (unique, like every body the workload types); '' for a delete. */
  body: string;
  /**
   * How the tab it was typed in showed the target just before: a delete of a `pending`
   * message may take it back before it ever leaves the device.
   */
  targetStatus: ObservedStatus | 'absent';
  /**
   * The engine call resolved: the operation is queued (or done in place) and promised.
   * False when it rejected (the engine went away mid-call, say): it may or may not apply.
   */
  resolved: boolean;
  /** Why it rejected, for the report. */
  error: string | null;
}

export type ObservedStatus = 'sent' | 'pending' | 'failed';

/** A message as one place (the server, or a member's view) holds it. */
export interface ObservedMessage {
  id: string;
  /** As shown: a deleted message's is '', an edited one's is its latest edit's. */
  body: string;
  /** The server's seq; null for a message that is not sent. */
  seq: number | null;
  status: ObservedStatus;
  /** Why a failed message failed (an error code such as `body_too_long`); null otherwise. */
  error: string | null;
  /** Marked edited (absent: not). */
  edited?: boolean;
  /** A tombstone (absent: not). */
  deleted?: boolean;
  /** An edit or delete typed here still waits to be confirmed (views only). */
  changing?: boolean;
  /** Why the server refused the last edit or delete typed here (views only). */
  opError?: string;
}

/** An edit or a delete in the server's room log, at its own seq. */
export interface ObservedOp {
  id: string;
  seq: number;
  kind: 'edit' | 'delete';
  target: string;
  /** An edit's body; '' for a delete, and for an edit erased when its message was deleted. */
  body: string;
  /** Erased by the delete of its message. */
  erased: boolean;
}

export interface MemberView {
  /** Who looked, and when (e.g. `c07 live`, `c07/t2 live`, `c07 reloaded`). */
  observer: string;
  /** The device (sender) whose view this is. */
  device: string;
  /** Rebuilt from IndexedDB alone (a reload), rather than a running tab's view. */
  reloaded: boolean;
  /** In display order. */
  messages: readonly ObservedMessage[];
}

export interface RoomHistory {
  room: string;
  /** The server's messages, in seq order, each in its final state. */
  server: readonly ObservedMessage[];
  /** The operations of the server's room log, in seq order: their seqs are no gaps. */
  ops: readonly ObservedOp[];
  views: readonly MemberView[];
}

/** What one device reported about itself, across its tabs and every engine it ran. */
export interface DeviceReport {
  device: string;
  /**
   * `rate_limited` answers the device got in each second of the run, in order; null when the
   * engine does not report them (`engine.diagnostics` missing), which is itself a finding.
   */
  refusedPerSecond: readonly number[] | null;
  /** `send` batches the device emitted in the whole run, for the report. */
  batchesSent: number;
  /** Outbox entries still queued when the wait after healing (the last fault) ended. */
  outboxAtDeadline: number;
}

/** One stretch on a slow but steady link: nothing cut it, so nothing should have reconnected. */
export interface SlowLink {
  device: string;
  /** Tabs of the device: each makes one connection when the stretch starts. */
  tabs: number;
  /** Connections the device's tabs opened during the stretch. */
  connections: number;
  /** How each connected link ended during the stretch, as the engine saw it (for the notes). */
  drops: readonly string[];
}

export interface ChaosHistory {
  attempts: readonly SendAttempt[];
  ops: readonly OpAttempt[];
  rooms: readonly RoomHistory[];
  devices: readonly DeviceReport[];
  slowLinks: readonly SlowLink[];
}

export interface Verdict {
  /** Promised messages missing from the server or from some member's view (each counted once). */
  lost: number;
  /** Extra copies: an entry whose id or body already appeared in the same place. */
  duplicated: number;
  /** Entries that come after a later message of the same sender, on the server or in a view. */
  reordered: number;
  /** Member views that are not exactly the server's history (same messages, seqs, order). */
  diverged: number;
  /** Seqs missing: on the server below its highest seq, in a view below the server's highest. */
  gaps: number;
  /**
   * Entries that no `send()` produced: an unknown body, a promised body under another id, or
   * a known id whose body came back changed.
   */
  unexpected: number;
  /** Entries shown `failed` in a view although the server stores that id. */
  failedButStored: number;
  /** Extra entries of an id listed more than once in one place. */
  listedTwice: number;
  /** Devices that were refused (`rate_limited`) faster than REFUSED_PER_WINDOW allows. */
  refused: number;
  /** Devices whose outbox still held messages at the drain deadline. */
  stuck: number;
  /**
   * Over-limit bodies not refused as promised: stored, shown other than `failed` with
   * `body_too_long`, or missing from their sender's reloaded view.
   */
  misrefused: number;
  /** Reconnects a device made by itself on a slow but steady link (it took slow for dead). */
  flapped: number;
  /**
   * Messages shown (on the server or in a view) with a body they had before their last
   * edit, or marked edited in a view where the server does not say so (or the reverse).
   */
  staleEdit: number;
  /**
   * Messages deleted but shown with a body: not a tombstone on the server or in a view, a
   * tombstone that kept its body, or a message deleted while pending stored with its body.
   */
  undeleted: number;
  /** A few examples per kind, for the person reading a failure. */
  notes: string[];
}

const NOTES_PER_KIND = 5;

/**
 * The refused-request bound: at most REFUSED_PER_WINDOW `rate_limited` answers to one device
 * in any REFUSED_WINDOW_S consecutive seconds. A healthy client is refused at most once per
 * batch it had in flight when a hold began (a window of 10 batches, per tab) and then waits
 * the answer's `retryAfterMs`, never less than a floor of half a second; in practice that is
 * a handful per hold. A client that resends at once spins through thousands in a few seconds
 * (issue 10 saw thousands within 5 s), far past the bound, whatever its batches.
 */
export const REFUSED_WINDOW_S = 5;
export const REFUSED_PER_WINDOW = 100;

interface Place {
  label: string;
  room: string;
  messages: readonly ObservedMessage[];
}

/** Checks a run's history. Every count must be 0. */
export function checkHistory(history: ChaosHistory): Verdict {
  const notes = new Notes();
  const attempts = new Attempts(history.attempts, history.ops);
  const rooms = new Map(history.rooms.map((room) => [room.room, room]));
  const places: Place[] = history.rooms.flatMap((room) => [
    { label: `server ${room.room}`, room: room.room, messages: room.server },
    ...room.views.map((view) => ({
      label: `${view.observer} view of ${room.room}`,
      room: room.room,
      messages: view.messages,
    })),
  ]);
  const typedOps = new TypedOps(history.ops);

  return {
    lost: countLost(history.attempts, attempts, rooms, notes),
    duplicated:
      sum(places, (place) => countDuplicated(place, notes)) +
      sum(history.rooms, (room) => countDuplicatedOps(room, notes)),
    reordered:
      sum(places, (place) => countReordered(place, attempts, notes)) +
      sum(history.rooms, (room) => countOpsBeforeTarget(room, notes)),
    diverged: sum(history.rooms, (room) => countDiverged(room, attempts, notes)),
    gaps: sum(history.rooms, (room) => countGaps(room, notes)),
    unexpected:
      sum(places, (place) => countUnexpected(place, attempts, notes)) +
      sum(history.rooms, (room) => countUnexpectedOps(room, typedOps, notes)),
    failedButStored: sum(history.rooms, (room) => countFailedButStored(room, notes)),
    listedTwice: sum(places, (place) => countListedTwice(place, notes)),
    refused: sum(history.devices, (device) => countRefused(device, notes)),
    stuck: sum(history.devices, (device) => countStuck(device, notes)),
    misrefused: countMisrefused(history.attempts, rooms, notes),
    flapped: sum(history.slowLinks, (link) => countFlapped(link, notes)),
    staleEdit:
      sum(places, (place) => countStaleEdits(place, attempts, notes)) +
      sum(history.rooms, (room) => countEditMarks(room, notes)),
    undeleted: sum(places, (place) => countUndeleted(place, attempts, notes)),
    notes: notes.lines,
  };
}

/**
 * What the edits and deletes typed for one message leave it as. Bodies are kept in both
 * the typed and the stored form (see `asStored`), so a lookup is one `has`.
 */
interface Fate {
  /** Every body it was typed with, its original and each edit: any other is unexpected. */
  known: ReadonlySet<string>;
  /**
   * The bodies it may end with unless deleted: its last edit's (or its original), plus any
   * typed after that whose call rejected (it may or may not have applied). None once a
   * delete resolved: it must end deleted.
   */
  finals: ReadonlySet<string>;
  /** The body it should end with, for notes. */
  last: string;
  /** A delete of it was typed: it may end as a tombstone. */
  mayDelete: boolean;
  /**
   * The delete was typed while its tab did not show it sent: the engine may have taken it
   * back before it left the device, so it may instead be absent everywhere.
   */
  mayVanish: boolean;
}

/**
 * The attempts, found by id first (a body may come back altered or edited) and else by
 * body, any body they were typed with. A body matches when it is what was typed, or its
 * well-formed form (lone surrogates replaced with U+FFFD), which is what a UTF-8 store may
 * honestly make of ill-formed UTF-16.
 */
class Attempts {
  readonly #byId = new Map<string, SendAttempt>();
  readonly #byBody = new Map<string, SendAttempt>();
  readonly #fates = new Map<SendAttempt, Fate>();

  constructor(attempts: readonly SendAttempt[], ops: readonly OpAttempt[]) {
    for (const attempt of attempts) {
      if (attempt.id !== null) this.#byId.set(attempt.id, attempt);
      const forms = bodyForms(attempt.body);
      for (const form of forms) this.#byBody.set(form, attempt);
      // Most messages are never changed: their fate shares one set.
      this.#fates.set(attempt, {
        known: forms,
        finals: forms,
        last: attempt.body,
        mayDelete: false,
        mayVanish: false,
      });
    }
    // In the order typed: one sender types one thing at a time.
    for (const op of ops) {
      const attempt = this.#byId.get(op.target);
      const before = attempt && this.#fates.get(attempt);
      if (!attempt || !before) continue;
      const known = new Set(before.known);
      if (op.kind === 'edit') {
        const forms = bodyForms(op.body);
        for (const form of forms) {
          known.add(form);
          this.#byBody.set(form, attempt);
        }
        this.#fates.set(attempt, {
          ...before,
          known,
          finals: op.resolved ? forms : new Set([...before.finals, ...forms]),
          last: op.resolved ? op.body : before.last,
        });
      } else {
        this.#fates.set(attempt, {
          ...before,
          known,
          finals: op.resolved ? new Set() : before.finals,
          last: op.resolved ? '' : before.last,
          mayDelete: true,
          mayVanish: before.mayVanish || op.targetStatus !== 'sent',
        });
      }
    }
  }

  of(message: ObservedMessage): SendAttempt | undefined {
    return this.#byId.get(message.id) ?? this.#byBody.get(message.body);
  }

  byId(id: string): SendAttempt | undefined {
    return this.#byId.get(id);
  }

  fate(attempt: SendAttempt): Fate | undefined {
    return this.#fates.get(attempt);
  }
}

/** A body as typed and as a UTF-8 store keeps it (the same string when it is well-formed). */
function bodyForms(body: string): Set<string> {
  return new Set([body, asStored(body)]);
}

/** The operations typed, per target: what the server's log may hold of them. */
class TypedOps {
  readonly #edits = new Map<string, Set<string>>();
  readonly #deletes = new Set<string>();

  constructor(ops: readonly OpAttempt[]) {
    for (const op of ops) {
      if (op.kind === 'delete') {
        this.#deletes.add(op.target);
        continue;
      }
      const bodies = this.#edits.get(op.target) ?? new Set<string>();
      for (const form of bodyForms(op.body)) bodies.add(form);
      this.#edits.set(op.target, bodies);
    }
  }

  /**
   * Whether `op` is one typed: an edit of its target with its body (an erased one's body is
   * gone), or a delete of it. An unsent edit that a delete overtook in the outbox becomes
   * that delete, under the edit's id, so ids are not compared.
   */
  typed(op: ObservedOp): boolean {
    if (op.kind === 'delete') return this.#deletes.has(op.target);
    const bodies = this.#edits.get(op.target);
    return bodies !== undefined && (op.erased || bodies.has(op.body));
  }
}

/**
 * `body` as the server stores it: every lone surrogate (as String#toWellFormed, ES2024) and
 * every U+0000 replaced by U+FFFD. Written apart from the app's own src/shared/text.ts, so
 * that the checker does not share its mistakes.
 */
export function asStored(body: string): string {
  let surrogates = false;
  for (let i = 0; i < body.length && !surrogates; i++) {
    const unit = body.charCodeAt(i);
    surrogates = unit === 0 || (unit >= 0xd800 && unit <= 0xdfff);
  }
  if (!surrogates) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const unit = body.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    const next = body.charCodeAt(i + 1);
    if (high && next >= 0xdc00 && next <= 0xdfff) {
      out += body.slice(i, i + 2);
      i += 1;
    } else {
      out += high || low || unit === 0 ? '\ufffd' : body[i];
    }
  }
  return out;
}

function countLost(
  attempts: readonly SendAttempt[],
  known: Attempts,
  rooms: ReadonlyMap<string, RoomHistory>,
  notes: Notes,
): number {
  // Sent ids per place, built once: a long run checks 50,000 messages against 20 views each.
  const holders = new Map(
    [...rooms.values()].map((room) => [
      room.room,
      [
        { name: SERVER, ids: sentIds(room.server) },
        ...room.views.map((view) => ({ name: view.observer, ids: sentIds(view.messages) })),
      ],
    ]),
  );
  let lost = 0;
  for (const attempt of attempts) {
    // An over-limit body is promised a failure, not a delivery: countMisrefused checks it.
    if (attempt.id === null || attempt.expect === 'refused') continue;
    const id = attempt.id;
    const places = holders.get(attempt.room);
    const missing = places ? places.filter((place) => !place.ids.has(id)) : [];
    // Deleted before it left the device: never stored. Shown anyway in a view, it is that
    // view's divergence (and, with its body, undeleted), not a loss.
    const neverStored = missing.some((place) => place.name === SERVER) || !places;
    if (neverStored && known.fate(attempt)?.mayVanish) continue;
    const missingFrom = places ? missing.map((place) => place.name) : [`${SERVER} (room missing)`];
    if (missingFrom.length === 0) continue;
    lost += 1;
    notes.add(
      'lost',
      `${preview(attempt.body)} (${attempt.id}) missing from ${missingFrom.join(', ')}`,
    );
  }
  return lost;
}

const SERVER = 'the server';

function sentIds(messages: readonly ObservedMessage[]): Set<string> {
  return new Set(messages.filter((message) => message.status === 'sent').map((m) => m.id));
}

function countDuplicated(place: Place, notes: Notes): number {
  const ids = new Set<string>();
  const bodies = new Set<string>();
  let duplicated = 0;
  for (const message of place.messages) {
    // Every tombstone's body is '': only its id tells it apart.
    const body = message.body === '' ? null : message.body;
    if (ids.has(message.id) || (body !== null && bodies.has(body))) {
      duplicated += 1;
      notes.add('duplicated', `${preview(message.body)} (${message.id}) twice in ${place.label}`);
    }
    ids.add(message.id);
    if (body !== null) bodies.add(body);
  }
  return duplicated;
}

/**
 * Operations stored twice: a delete of one message twice, or one edit's body twice (each
 * edit typed has a body of its own). An erased edit's body is gone, so erased ones are
 * not compared.
 */
function countDuplicatedOps(room: RoomHistory, notes: Notes): number {
  const seen = new Set<string>();
  let duplicated = 0;
  for (const op of room.ops) {
    if (op.kind === 'edit' && op.erased) continue;
    const key = op.kind === 'delete' ? `delete ${op.target}` : `edit ${op.target} ${op.body}`;
    if (seen.has(key)) {
      duplicated += 1;
      notes.add(
        'duplicated',
        `${op.kind} of ${op.target} ${op.kind === 'edit' ? `to ${preview(op.body)} ` : ''}` +
          `stored twice in server ${room.room} (again at seq ${op.seq})`,
      );
    }
    seen.add(key);
  }
  return duplicated;
}

function countReordered(place: Place, attempts: Attempts, notes: Notes): number {
  const latestBySender = new Map<string, SendAttempt>();
  const seen = new Set<SendAttempt>();
  let reordered = 0;
  for (const message of place.messages) {
    // Only sent messages have a settled order; a repeat is counted as duplicated, not here.
    const attempt = attempts.of(message);
    if (message.status !== 'sent' || !attempt || seen.has(attempt)) continue;
    seen.add(attempt);
    const latest = latestBySender.get(attempt.sender);
    if (latest && attempt.index < latest.index) {
      reordered += 1;
      notes.add(
        'reordered',
        `${preview(attempt.body)} after ${preview(latest.body)} in ${place.label}`,
      );
    } else {
      latestBySender.set(attempt.sender, attempt);
    }
  }
  return reordered;
}

/** An operation stored before the message it changes (or with no such message stored). */
function countOpsBeforeTarget(room: RoomHistory, notes: Notes): number {
  const seqs = new Map(room.server.map((message) => [message.id, message.seq ?? 0]));
  let reordered = 0;
  for (const op of room.ops) {
    const target = seqs.get(op.target);
    if (target === undefined || target < op.seq) continue;
    reordered += 1;
    notes.add(
      'reordered',
      `${op.kind} of ${op.target} at seq ${op.seq} stored before its message (seq ${target}) ` +
        `in server ${room.room}`,
    );
  }
  return reordered;
}

function countDiverged(room: RoomHistory, attempts: Attempts, notes: Notes): number {
  const expected = fingerprint(room.server);
  let diverged = 0;
  for (const view of room.views) {
    // An over-limit body shown failed to its sender is the promise kept, not another
    // history; countMisrefused judges it.
    const shown = view.messages.filter(
      (message) => !(message.status === 'failed' && attempts.of(message)?.expect === 'refused'),
    );
    const actual = fingerprint(shown);
    if (actual.join() === expected.join()) continue;
    diverged += 1;
    const at = actual.findIndex((entry, i) => entry !== expected[i]);
    const index = at === -1 ? Math.min(actual.length, expected.length) : at;
    notes.add(
      'diverged',
      `${view.observer} view of ${room.room} differs from the server at position ${index}: ` +
        `${actual[index] ?? '(end)'} instead of ${expected[index] ?? '(end)'}`,
    );
  }
  return diverged;
}

/**
 * Which messages, where, in what status. An edit or delete still shown waiting once every
 * outbox drained differs from the server's settled history too.
 */
function fingerprint(messages: readonly ObservedMessage[]): string[] {
  return messages.map(
    (message) =>
      `${message.id}@${message.seq ?? '-'}:${message.status}${message.changing ? ' changing' : ''}`,
  );
}

function countGaps(room: RoomHistory, notes: Notes): number {
  // An operation's seq is taken: a view lists no operation, and whether it applied them
  // is for staleEdit and undeleted to say.
  const opSeqs = room.ops.map((op) => op.seq);
  const serverSeqs = seqsOf(room.server, opSeqs);
  const highest = Math.max(0, ...serverSeqs);
  let gaps = missingBelow(highest, serverSeqs);
  if (gaps > 0) notes.add('gaps', `server ${room.room}: ${gaps} seqs missing below ${highest}`);
  for (const view of room.views) {
    const missing = missingBelow(highest, seqsOf(view.messages, opSeqs));
    if (missing === 0) continue;
    gaps += missing;
    notes.add(
      'gaps',
      `${view.observer} view of ${room.room}: ${missing} of seqs 1..${highest} missing`,
    );
  }
  return gaps;
}

function seqsOf(messages: readonly ObservedMessage[], opSeqs: readonly number[]): Set<number> {
  const seqs = new Set<number>(opSeqs);
  for (const message of messages) {
    if (message.status === 'sent' && message.seq !== null) seqs.add(message.seq);
  }
  return seqs;
}

/** How many of 1..highest are not in `seqs`. */
function missingBelow(highest: number, seqs: ReadonlySet<number>): number {
  let missing = 0;
  for (let seq = 1; seq <= highest; seq++) if (!seqs.has(seq)) missing += 1;
  return missing;
}

/**
 * Entries no `send()` produced, or with a body none of their `send()` and `edit()` calls
 * typed, or deleted with no delete typed. A body that was typed but is not the last edit's
 * is staleEdit's; a tombstone that kept its body is undeleted's.
 */
function countUnexpected(place: Place, attempts: Attempts, notes: Notes): number {
  let unexpected = 0;
  for (const message of place.messages) {
    const attempt = attempts.of(message);
    const fate = attempt && attempts.fate(attempt);
    const tombstone = message.deleted === true && message.body === '';
    const typedBody = fate !== undefined && (tombstone || fate.known.has(message.body));
    const typedDelete = !message.deleted || fate?.mayDelete === true;
    const fits =
      attempt !== undefined &&
      typedBody &&
      typedDelete &&
      attempt.room === place.room &&
      (attempt.id === null || attempt.id === message.id);
    if (fits) continue;
    unexpected += 1;
    const why = !attempt
      ? 'matches no send() to that room'
      : !typedBody
        ? `came back altered (sent ${preview(attempt.body)})`
        : !typedDelete
          ? 'is deleted, but no delete of it was typed'
          : 'matches no send() to that room';
    notes.add('unexpected', `${preview(message.body)} (${message.id}) in ${place.label} ${why}`);
  }
  return unexpected;
}

/** Operations in the server's log that no `edit()` or `deleteMessage()` typed. */
function countUnexpectedOps(room: RoomHistory, typed: TypedOps, notes: Notes): number {
  let unexpected = 0;
  for (const op of room.ops) {
    if (typed.typed(op)) continue;
    unexpected += 1;
    notes.add(
      'unexpected',
      `${op.kind} ${op.id} of ${op.target} at seq ${op.seq} in server ${room.room}` +
        `${op.kind === 'edit' ? ` (to ${preview(op.body)})` : ''} matches nothing typed`,
    );
  }
  return unexpected;
}

/** Messages shown with a body they had before their last edit. */
function countStaleEdits(place: Place, attempts: Attempts, notes: Notes): number {
  let stale = 0;
  for (const message of place.messages) {
    const attempt = attempts.byId(message.id);
    const fate = attempt && attempts.fate(attempt);
    // A deleted one, or one that must be, is undeleted's to judge; an untyped body, unexpected's.
    if (!fate || message.deleted || fate.finals.size === 0) continue;
    if (fate.finals.has(message.body) || !fate.known.has(message.body)) continue;
    stale += 1;
    notes.add(
      'staleEdit',
      `${preview(message.body)} (${message.id}) in ${place.label}, but its last edit is ` +
        preview(fate.last),
    );
  }
  return stale;
}

/**
 * Views that mark a message edited when the server does not, or the reverse: the body can
 * be right (an edit of a pending message rewrites it in place, unmarked) while the mark is
 * not. Only settled copies with the server's body are compared: one with an edit still
 * waiting is diverged's, one with another body countStaleEdits' or countUnexpected's.
 */
function countEditMarks(room: RoomHistory, notes: Notes): number {
  const server = new Map(room.server.map((message) => [message.id, message]));
  let count = 0;
  for (const view of room.views) {
    for (const message of view.messages) {
      const stored = server.get(message.id);
      if (!stored || stored.deleted || message.deleted) continue;
      if (message.status !== 'sent' || message.changing) continue;
      if (asStored(message.body) !== asStored(stored.body)) continue;
      if (Boolean(message.edited) === Boolean(stored.edited)) continue;
      count += 1;
      notes.add(
        'staleEdit',
        `${preview(message.body)} (${message.id}) shown ${message.edited ? '' : 'not '}edited ` +
          `in ${view.observer} view of ${room.room}, the server says the opposite`,
      );
    }
  }
  return count;
}

/**
 * Messages deleted but not gone: shown with a body after a delete of them resolved (on the
 * server, a message deleted while pending that was stored with its body and no delete),
 * or a tombstone that kept its body.
 */
function countUndeleted(place: Place, attempts: Attempts, notes: Notes): number {
  let undeleted = 0;
  for (const message of place.messages) {
    const attempt = attempts.byId(message.id);
    const fate = attempt && attempts.fate(attempt);
    if (!fate || attempt.expect === 'refused') continue;
    if (message.deleted ? message.body === '' : fate.finals.size > 0) continue;
    undeleted += 1;
    const why = message.deleted
      ? 'is deleted but still has its body'
      : `is shown (${message.status}) though deleted` +
        (fate.mayVanish ? ' before it was sent' : '');
    notes.add('undeleted', `${preview(message.body)} (${message.id}) in ${place.label} ${why}`);
  }
  return undeleted;
}

function countFailedButStored(room: RoomHistory, notes: Notes): number {
  const stored = new Set(room.server.map((message) => message.id));
  let count = 0;
  for (const view of room.views) {
    for (const message of view.messages) {
      if (message.status !== 'failed' || !stored.has(message.id)) continue;
      count += 1;
      notes.add(
        'failedButStored',
        `${preview(message.body)} (${message.id}) shown failed (${message.error ?? 'no reason'}) ` +
          `in ${view.observer} view of ${room.room}, but the server stores it`,
      );
    }
  }
  return count;
}

function countListedTwice(place: Place, notes: Notes): number {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const message of place.messages) (seen.has(message.id) ? repeated : seen).add(message.id);
  let count = 0;
  for (const id of repeated) {
    const statuses = place.messages.filter((message) => message.id === id).map((m) => m.status);
    count += statuses.length - 1;
    notes.add(
      'listedTwice',
      `${id} listed ${statuses.length} times (${statuses.join(', ')}) in ${place.label}`,
    );
  }
  return count;
}

function countRefused(device: DeviceReport, notes: Notes): number {
  if (device.refusedPerSecond === null) {
    notes.add(
      'refused',
      `${device.device}: cannot count refused requests, the engine has no ` +
        '`diagnostics` ({ batchesSent, batchesRefused }) in src/client/engine.ts',
    );
    return 1;
  }
  const perSecond = device.refusedPerSecond;
  let worst = 0;
  let worstAt = 0;
  for (let end = 0; end < perSecond.length; end++) {
    const window = perSecond.slice(Math.max(0, end - REFUSED_WINDOW_S + 1), end + 1);
    const refused = window.reduce((total, count) => total + count, 0);
    if (refused > worst) {
      worst = refused;
      worstAt = end;
    }
  }
  if (worst <= REFUSED_PER_WINDOW) return 0;
  const total = perSecond.reduce((sum, count) => sum + count, 0);
  const window = perSecond.slice(Math.max(0, worstAt - REFUSED_WINDOW_S + 1), worstAt + 1);
  notes.add(
    'refused',
    `${device.device}: ${worst} rate_limited answers within ${REFUSED_WINDOW_S} s ` +
      `(${window.join(', ')} a second, ending ${worstAt + 1} s after the devices came up; ` +
      `at most ${REFUSED_PER_WINDOW}), ${total} in all, for ${device.batchesSent} batches sent`,
  );
  return 1;
}

function countStuck(device: DeviceReport, notes: Notes): number {
  if (device.outboxAtDeadline === 0) return 0;
  notes.add(
    'stuck',
    `${device.device}: ${device.outboxAtDeadline} messages still in the outbox at the drain deadline`,
  );
  return 1;
}

function countMisrefused(
  attempts: readonly SendAttempt[],
  rooms: ReadonlyMap<string, RoomHistory>,
  notes: Notes,
): number {
  let count = 0;
  for (const attempt of attempts) {
    if (attempt.expect !== 'refused') continue;
    const room = rooms.get(attempt.room);
    const matches = (message: ObservedMessage) =>
      message.id === attempt.id || message.body === attempt.body;
    const problems: string[] = [];
    if (room?.server.some(matches)) problems.push('stored by the server');
    for (const view of room?.views ?? []) {
      const shown = view.messages.find(matches);
      const own = view.device === attempt.sender;
      if (!shown) {
        // A send() that resolved queued it: the sender's device must show it failed, for the
        // person to see why. A send() that rejected refused it at once, which is also fine.
        if (own && view.reloaded && attempt.id !== null)
          problems.push(`missing from ${view.observer}`);
        continue;
      }
      if (!own) problems.push(`shown in ${view.observer}`);
      else if (shown.status !== 'failed' || shown.error !== 'body_too_long') {
        problems.push(`${shown.status} (${shown.error ?? 'no reason'}) in ${view.observer}`);
      }
    }
    if (problems.length === 0) continue;
    count += 1;
    notes.add(
      'misrefused',
      `over-limit ${preview(attempt.body)} (${attempt.body.length} chars, ${attempt.id}): ` +
        problems.join(', '),
    );
  }
  return count;
}

function countFlapped(link: SlowLink, notes: Notes): number {
  const reconnects = Math.max(0, link.connections - link.tabs);
  if (reconnects > 0) {
    notes.add(
      'flapped',
      `${link.device}: ${reconnects} reconnects on a slow but steady link ` +
        `(${link.connections} connections for ${link.tabs} tabs; ` +
        `${link.drops.join(', ') || 'no drop seen'})`,
    );
  }
  return reconnects;
}

/** The start of a body, quoted for notes (bodies can be 30,000 control characters). */
function preview(body: string): string {
  return body.length > 40 ? `${JSON.stringify(body.slice(0, 40))}…` : JSON.stringify(body);
}

function sum<T>(items: readonly T[], count: (item: T) => number): number {
  return items.reduce((total, item) => total + count(item), 0);
}

/** Keeps the first few examples of each kind of finding. */
class Notes {
  readonly lines: string[] = [];
  readonly #perKind = new Map<string, number>();

  add(kind: string, line: string): void {
    const count = this.#perKind.get(kind) ?? 0;
    this.#perKind.set(kind, count + 1);
    if (count < NOTES_PER_KIND) this.lines.push(`${kind}: ${line}`);
  }
}

/**
 * The run's closing line, in the one form CI and people grep for: the original counts, the
 * newer ones after them, then how often each kind of fault happened (`kinds`, in the order
 * given), so a reader sees that every kind did.
 */
export function summaryLine(run: {
  seed: number;
  clients: number;
  messages: number;
  faults: number;
  verdict: Verdict;
  kinds: Readonly<Record<string, number>>;
}): string {
  const { seed, clients, messages, faults, verdict, kinds } = run;
  const kindList = Object.entries(kinds)
    .map(([kind, count]) => `${kind}:${count}`)
    .join(',');
  return (
    `chaos: seed=${seed} clients=${clients} messages=${messages} faults=${faults} ` +
    `lost=${verdict.lost} duplicated=${verdict.duplicated} reordered=${verdict.reordered} ` +
    `diverged=${verdict.diverged} gaps=${verdict.gaps} ` +
    `failedButStored=${verdict.failedButStored} listedTwice=${verdict.listedTwice} ` +
    `refused=${verdict.refused} stuck=${verdict.stuck} misrefused=${verdict.misrefused} ` +
    `flapped=${verdict.flapped} staleEdit=${verdict.staleEdit} undeleted=${verdict.undeleted} ` +
    `kinds=${kindList}`
  );
}

/** Every finding count of a verdict (each must be 0 for a run to pass). */
export function findings(verdict: Verdict): Record<string, number> {
  const { notes: _notes, ...counts } = verdict;
  return counts;
}
