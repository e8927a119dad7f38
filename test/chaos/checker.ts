/**
 * The chaos checker: a pure function from what happened (every `send()` the workload made,
 * the server's stored rooms, every member's final view, what each device's engine counted)
 * to counts of what went wrong. In the spirit of Jepsen's total-queue checker (lost,
 * duplicated, unexpected), plus order, convergence, gap and liveness checks for Ferry's
 * promise (see docs/reliability.md).
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

export type ObservedStatus = 'sent' | 'pending' | 'failed';

/** A message as one place (the server, or a member's view) holds it. */
export interface ObservedMessage {
  id: string;
  body: string;
  /** The server's seq; null for a message that is not sent. */
  seq: number | null;
  status: ObservedStatus;
  /** Why a failed message failed (an error code such as `body_too_long`); null otherwise. */
  error: string | null;
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
  /** The server's store, in seq order. */
  server: readonly ObservedMessage[];
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
  const attempts = new Attempts(history.attempts);
  const rooms = new Map(history.rooms.map((room) => [room.room, room]));
  const places: Place[] = history.rooms.flatMap((room) => [
    { label: `server ${room.room}`, room: room.room, messages: room.server },
    ...room.views.map((view) => ({
      label: `${view.observer} view of ${room.room}`,
      room: room.room,
      messages: view.messages,
    })),
  ]);

  return {
    lost: countLost(history.attempts, rooms, notes),
    duplicated: sum(places, (place) => countDuplicated(place, notes)),
    reordered: sum(places, (place) => countReordered(place, attempts, notes)),
    diverged: sum(history.rooms, (room) => countDiverged(room, attempts, notes)),
    gaps: sum(history.rooms, (room) => countGaps(room, notes)),
    unexpected: sum(places, (place) => countUnexpected(place, attempts, notes)),
    failedButStored: sum(history.rooms, (room) => countFailedButStored(room, notes)),
    listedTwice: sum(places, (place) => countListedTwice(place, notes)),
    refused: sum(history.devices, (device) => countRefused(device, notes)),
    stuck: sum(history.devices, (device) => countStuck(device, notes)),
    misrefused: countMisrefused(history.attempts, rooms, notes),
    flapped: sum(history.slowLinks, (link) => countFlapped(link, notes)),
    notes: notes.lines,
  };
}

/**
 * The attempts, found by id first (a body may come back altered) and else by body. A body
 * matches when it is what was sent, or its well-formed form (lone surrogates replaced with
 * U+FFFD), which is what a UTF-8 store may honestly make of ill-formed UTF-16.
 */
class Attempts {
  readonly #byId = new Map<string, SendAttempt>();
  readonly #byBody = new Map<string, SendAttempt>();

  constructor(attempts: readonly SendAttempt[]) {
    for (const attempt of attempts) {
      if (attempt.id !== null) this.#byId.set(attempt.id, attempt);
      this.#byBody.set(attempt.body, attempt);
      this.#byBody.set(asStored(attempt.body), attempt);
    }
  }

  of(message: ObservedMessage): SendAttempt | undefined {
    return this.#byId.get(message.id) ?? this.#byBody.get(message.body);
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
  rooms: ReadonlyMap<string, RoomHistory>,
  notes: Notes,
): number {
  // Sent ids per place, built once: a long run checks 50,000 messages against 20 views each.
  const holders = new Map(
    [...rooms.values()].map((room) => [
      room.room,
      [
        { name: 'the server', ids: sentIds(room.server) },
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
    const missingFrom = places
      ? places.filter((place) => !place.ids.has(id)).map((place) => place.name)
      : ['the server (room missing)'];
    if (missingFrom.length === 0) continue;
    lost += 1;
    notes.add(
      'lost',
      `${preview(attempt.body)} (${attempt.id}) missing from ${missingFrom.join(', ')}`,
    );
  }
  return lost;
}

function sentIds(messages: readonly ObservedMessage[]): Set<string> {
  return new Set(messages.filter((message) => message.status === 'sent').map((m) => m.id));
}

function countDuplicated(place: Place, notes: Notes): number {
  const ids = new Set<string>();
  const bodies = new Set<string>();
  let duplicated = 0;
  for (const message of place.messages) {
    if (ids.has(message.id) || bodies.has(message.body)) {
      duplicated += 1;
      notes.add('duplicated', `${preview(message.body)} (${message.id}) twice in ${place.label}`);
    }
    ids.add(message.id);
    bodies.add(message.body);
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

function fingerprint(messages: readonly ObservedMessage[]): string[] {
  return messages.map((message) => `${message.id}@${message.seq ?? '-'}:${message.status}`);
}

function countGaps(room: RoomHistory, notes: Notes): number {
  const serverSeqs = seqsOf(room.server);
  const highest = Math.max(0, ...serverSeqs);
  let gaps = missingBelow(highest, serverSeqs);
  if (gaps > 0) notes.add('gaps', `server ${room.room}: ${gaps} seqs missing below ${highest}`);
  for (const view of room.views) {
    const missing = missingBelow(highest, seqsOf(view.messages));
    if (missing === 0) continue;
    gaps += missing;
    notes.add(
      'gaps',
      `${view.observer} view of ${room.room}: ${missing} of seqs 1..${highest} missing`,
    );
  }
  return gaps;
}

function seqsOf(messages: readonly ObservedMessage[]): Set<number> {
  const seqs = new Set<number>();
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

function countUnexpected(place: Place, attempts: Attempts, notes: Notes): number {
  let unexpected = 0;
  for (const message of place.messages) {
    const attempt = attempts.of(message);
    const sameBody =
      attempt !== undefined &&
      (message.body === attempt.body || message.body === asStored(attempt.body));
    const fits =
      attempt !== undefined &&
      sameBody &&
      attempt.room === place.room &&
      (attempt.id === null || attempt.id === message.id);
    if (fits) continue;
    unexpected += 1;
    const why =
      attempt && !sameBody
        ? `came back altered (sent ${preview(attempt.body)})`
        : 'matches no send() to that room';
    notes.add('unexpected', `${preview(message.body)} (${message.id}) in ${place.label} ${why}`);
  }
  return unexpected;
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
    `flapped=${verdict.flapped} kinds=${kindList}`
  );
}

/** Every finding count of a verdict (each must be 0 for a run to pass). */
export function findings(verdict: Verdict): Record<string, number> {
  const { notes: _notes, ...counts } = verdict;
  return counts;
}
