/**
 * The chaos checker: a pure function from what happened (every `send()` the workload made,
 * the server's stored rooms, every member's final view) to counts of what went wrong. In
 * the spirit of Jepsen's total-queue checker (lost, duplicated, unexpected), plus order,
 * convergence and gap checks for Ferry's promise (see docs/reliability.md).
 */

/** One `send()` call of the workload. */
export interface SendAttempt {
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
}

export type ObservedStatus = 'sent' | 'pending' | 'failed';

/** A message as one place (the server, or a member's view) holds it. */
export interface ObservedMessage {
  id: string;
  body: string;
  /** The server's seq; null for a message that is not sent. */
  seq: number | null;
  status: ObservedStatus;
}

export interface MemberView {
  /** Who looked, and when (e.g. `c07 live`, `c07 reloaded`). */
  observer: string;
  /** In display order. */
  messages: readonly ObservedMessage[];
}

export interface RoomHistory {
  room: string;
  /** The server's store, in seq order. */
  server: readonly ObservedMessage[];
  views: readonly MemberView[];
}

export interface ChaosHistory {
  attempts: readonly SendAttempt[];
  rooms: readonly RoomHistory[];
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
  /** Entries that no `send()` produced (an unknown body, or a promised body under another id). */
  unexpected: number;
  /** A few examples per kind, for the person reading a failure. */
  notes: string[];
}

const NOTES_PER_KIND = 5;

interface Place {
  label: string;
  room: string;
  messages: readonly ObservedMessage[];
}

/** Checks a run's history. Every count must be 0. */
export function checkHistory(history: ChaosHistory): Verdict {
  const notes = new Notes();
  const attemptsByBody = new Map(history.attempts.map((attempt) => [attempt.body, attempt]));
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
    reordered: sum(places, (place) => countReordered(place, attemptsByBody, notes)),
    diverged: sum(history.rooms, (room) => countDiverged(room, notes)),
    gaps: sum(history.rooms, (room) => countGaps(room, notes)),
    unexpected: sum(places, (place) => countUnexpected(place, attemptsByBody, notes)),
    notes: notes.lines,
  };
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
    if (attempt.id === null) continue;
    const id = attempt.id;
    const places = holders.get(attempt.room);
    const missingFrom = places
      ? places.filter((place) => !place.ids.has(id)).map((place) => place.name)
      : ['the server (room missing)'];
    if (missingFrom.length === 0) continue;
    lost += 1;
    notes.add('lost', `${attempt.body} (${attempt.id}) missing from ${missingFrom.join(', ')}`);
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
      notes.add('duplicated', `${message.body} (${message.id}) twice in ${place.label}`);
    }
    ids.add(message.id);
    bodies.add(message.body);
  }
  return duplicated;
}

function countReordered(
  place: Place,
  attemptsByBody: ReadonlyMap<string, SendAttempt>,
  notes: Notes,
): number {
  const latestBySender = new Map<string, SendAttempt>();
  const seen = new Set<string>();
  let reordered = 0;
  for (const message of place.messages) {
    // Only sent messages have a settled order; a repeat is counted as duplicated, not here.
    if (message.status !== 'sent' || seen.has(message.body)) continue;
    seen.add(message.body);
    const attempt = attemptsByBody.get(message.body);
    if (!attempt) continue;
    const latest = latestBySender.get(attempt.sender);
    if (latest && attempt.index < latest.index) {
      reordered += 1;
      notes.add('reordered', `${attempt.body} after ${latest.body} in ${place.label}`);
    } else {
      latestBySender.set(attempt.sender, attempt);
    }
  }
  return reordered;
}

function countDiverged(room: RoomHistory, notes: Notes): number {
  const expected = fingerprint(room.server);
  let diverged = 0;
  for (const view of room.views) {
    const actual = fingerprint(view.messages);
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

function countUnexpected(
  place: Place,
  attemptsByBody: ReadonlyMap<string, SendAttempt>,
  notes: Notes,
): number {
  let unexpected = 0;
  for (const message of place.messages) {
    const attempt = attemptsByBody.get(message.body);
    const fits =
      attempt !== undefined &&
      attempt.room === place.room &&
      (attempt.id === null || attempt.id === message.id);
    if (fits) continue;
    unexpected += 1;
    notes.add(
      'unexpected',
      `${message.body} (${message.id}) in ${place.label} matches no send() to that room`,
    );
  }
  return unexpected;
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

/** The run's closing line, in the one form CI and people grep for. */
export function summaryLine(run: {
  seed: number;
  clients: number;
  messages: number;
  faults: number;
  verdict: Verdict;
}): string {
  const { seed, clients, messages, faults, verdict } = run;
  return (
    `chaos: seed=${seed} clients=${clients} messages=${messages} faults=${faults} ` +
    `lost=${verdict.lost} duplicated=${verdict.duplicated} reordered=${verdict.reordered} ` +
    `diverged=${verdict.diverged} gaps=${verdict.gaps}`
  );
}
