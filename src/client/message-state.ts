import type { StoredOp } from '../shared/protocol.ts';
import type { LocalMessage, SentMessage } from './types.ts';

/**
 * What the room log has said of one message so far: its body, and whether it was edited
 * or deleted, as of `version` (the seq of the last operation heard, or the message's own).
 */
export interface LoggedState {
  body: string;
  edited?: true;
  deleted?: true;
  version: number;
}

/**
 * Operations heard for a message this device does not hold yet (an edit that overtook a
 * page still on its way, say), kept until the message arrives.
 */
export interface Amendment extends LoggedState {
  target: string;
  room: string;
}

/**
 * The later of two states of one message. A delete is final: once either says deleted,
 * so does the result, with no body. Otherwise the higher version wins, and of two equal
 * versions the first, which makes hearing the same thing twice change nothing.
 */
export function laterState(a: LoggedState, b: LoggedState): LoggedState {
  if (a.deleted || b.deleted) {
    return { body: '', deleted: true, version: Math.max(a.version, b.version) };
  }
  return b.version > a.version ? b : a;
}

/** What an operation says of its message's state. */
export function stateOfOp(op: StoredOp): LoggedState {
  // An edit whose body is erased tells of a delete that came after it.
  if (op.kind === 'delete' || op.deleted) return { body: '', deleted: true, version: op.seq };
  return { body: op.body, edited: true, version: op.seq };
}

export function stateOf(message: SentMessage): LoggedState {
  return {
    body: message.body,
    version: message.version ?? message.seq,
    ...(message.edited ? { edited: true as const } : {}),
    ...(message.deleted ? { deleted: true as const } : {}),
  };
}

/** `message` in the state `state`, its own fields (seq, author, what is typed here) kept. */
export function withState(message: SentMessage, state: LoggedState): SentMessage {
  const { edited: _edited, deleted: _deleted, version: _version, ...rest } = message;
  const version = state.version === message.seq ? {} : { version: state.version };
  return {
    ...rest,
    body: state.body,
    ...version,
    ...(state.edited ? { edited: true as const } : {}),
    ...(state.deleted ? { deleted: true as const } : {}),
  };
}

/**
 * A copy of a message from the server (a page, a live event, an ack) put over what this
 * device holds of it: the later state wins, since a page read a moment before an edit can
 * arrive after the edit did, and what was typed here and is not confirmed yet is kept.
 */
export function mergeCopy(stored: LocalMessage | undefined, incoming: SentMessage): SentMessage {
  const state =
    stored?.status === 'sent' ? laterState(stateOf(stored), stateOf(incoming)) : stateOf(incoming);
  const merged = withState(incoming, state);
  const { pendingOp, opError } = stored ?? {};
  return {
    ...merged,
    ...(pendingOp ? { pendingOp } : {}),
    ...(opError ? { opError } : {}),
  };
}

/**
 * A message with an operation from the room log applied (a repeat, or an older one,
 * changes nothing).
 */
export function applyOp(message: SentMessage, op: StoredOp): SentMessage {
  return withState(message, laterState(stateOf(message), stateOfOp(op)));
}

/** An amendment with one more operation heard. */
export function amend(amendment: Amendment | undefined, op: StoredOp): Amendment {
  const state = amendment ? laterState(amendment, stateOfOp(op)) : stateOfOp(op);
  return { ...state, target: op.target, room: op.room };
}

/** A message that arrived with the operations heard for it before it did. */
export function withAmendment(message: SentMessage, amendment: Amendment): SentMessage {
  const { target: _target, room: _room, ...state } = amendment;
  return withState(message, laterState(stateOf(message), state));
}

/** How a message is shown: its state with the edit or delete typed here applied. */
export interface Shown {
  body: string;
  edited: boolean;
  deleted: boolean;
  /** An edit or delete of it waits in the outbox. */
  changing: boolean;
}

export function shown(message: LocalMessage): Shown {
  const op = message.pendingOp;
  const sent = message.status === 'sent' ? message : null;
  const deleted = Boolean(sent?.deleted) || op?.kind === 'delete';
  return {
    body: deleted ? '' : op?.kind === 'edit' ? op.body : message.body,
    edited: !deleted && (Boolean(sent?.edited) || op?.kind === 'edit'),
    deleted,
    changing: op !== undefined,
  };
}
