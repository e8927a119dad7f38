/**
 * The wire protocol: payload types and the typed socket.io event maps that both the
 * server (`Server<ClientToServerEvents, ServerToClientEvents>`) and the client
 * (`Socket<ServerToClientEvents, ClientToServerEvents>`) are declared with.
 * See docs/protocol.md for the prose version.
 */
import type { z } from 'zod/mini';
import type {
  createRoomAckSchema,
  createRoomRequestSchema,
  handshakeAuthSchema,
  headEventSchema,
  historyAckSchema,
  historyRequestSchema,
  joinAckSchema,
  joinRequestSchema,
  leaveAckSchema,
  leaveRequestSchema,
  logEntrySchema,
  messagesEventSchema,
  outgoingDeleteSchema,
  outgoingEditSchema,
  outgoingMessageSchema,
  pingAckSchema,
  pingRequestSchema,
  receiptAckSchema,
  receiptRequestSchema,
  receiptsEventSchema,
  roomReceiptsSchema,
  sendAckSchema,
  sendResultSchema,
  sessionSchema,
  storedMessageSchema,
  storedOpSchema,
  typingEventSchema,
  typingRequestSchema,
} from './schemas.ts';

/**
 * The protocol this build speaks, sent in the handshake as `auth.protocol`. Bump it with a
 * change old clients cannot live with, and raise the server's MIN_PROTOCOL_VERSION to it:
 * older tabs are then told `upgrade_required` and asked to reload, instead of failing.
 * Version 2 added the version itself, lenient error codes and `internal` with a wait.
 * Version 3 added edits and deletes: the room log holds operations at their own seqs,
 * which an older client would show as new messages, so it is asked to reload.
 * Version 4 added read cursors (`receipt`, `receipts`, `receipts` in the `join` ack), room
 * names (`createRoom` takes a `name`, `join` answers one) and `leave`. All of it is
 * additive: a version 3 client never sends the new events and ignores the new event and
 * the new fields, so MIN_PROTOCOL_VERSION stays 3.
 */
export const PROTOCOL_VERSION = 4;
/**
 * What a handshake without `auth.protocol` speaks: the builds from before versions, now
 * told `upgrade_required` (see MIN_PROTOCOL_VERSION).
 */
export const UNVERSIONED_PROTOCOL = 1;
/** The oldest client protocol the server serves; an older handshake gets `upgrade_required`. */
export const MIN_PROTOCOL_VERSION = 3;

/** The name of a private room made without one (by a client older than protocol 4). */
export const DEFAULT_PRIVATE_ROOM_NAME = 'Private room';

/**
 * A message as the server holds it (its latest state): `seq` is per room, `ts` strictly
 * increases with it.
 */
export type StoredMessage = z.infer<typeof storedMessageSchema>;
/** An edit or a delete in the room log. */
export type StoredOp = z.infer<typeof storedOpSchema>;
/** What one seq of a room's log holds. */
export type LogEntry = z.infer<typeof logEntrySchema>;
export type OutgoingMessage = z.infer<typeof outgoingMessageSchema>;
export type OutgoingEdit = z.infer<typeof outgoingEditSchema>;
export type OutgoingDelete = z.infer<typeof outgoingDeleteSchema>;
/** One item of a `send` batch. */
export type OutgoingItem = OutgoingMessage | OutgoingEdit | OutgoingDelete;
export type SendResult = z.infer<typeof sendResultSchema>;
export type HandshakeAuth = z.infer<typeof handshakeAuthSchema>;
export type Session = z.infer<typeof sessionSchema>;
/** `createRoom`'s payload: `name` is optional (see createRoomRequestSchema). */
export type CreateRoomRequest = z.input<typeof createRoomRequestSchema>;
export type CreateRoomAck = z.infer<typeof createRoomAckSchema>;

export interface SendBatch {
  room: string;
  messages: OutgoingItem[];
  /** The batch starts at the head of the sender's outbox (see `sendBatchSchema`). */
  head?: boolean;
}
export type SendAck = z.infer<typeof sendAckSchema>;
export type JoinRequest = z.infer<typeof joinRequestSchema>;
export type JoinAck = z.infer<typeof joinAckSchema>;
export type HistoryRequest = z.infer<typeof historyRequestSchema>;
export type HistoryAck = z.infer<typeof historyAckSchema>;
export type PingRequest = z.infer<typeof pingRequestSchema>;
export type PingAck = z.infer<typeof pingAckSchema>;
export type MessagesEvent = z.infer<typeof messagesEventSchema>;
export type HeadEvent = z.infer<typeof headEventSchema>;
export type TypingRequest = z.infer<typeof typingRequestSchema>;
export type TypingEvent = z.infer<typeof typingEventSchema>;
/** A member's own read cursors in a room and the highest of the other members'. */
export type RoomReceipts = z.infer<typeof roomReceiptsSchema>;
export type ReceiptRequest = z.infer<typeof receiptRequestSchema>;
export type ReceiptAck = z.infer<typeof receiptAckSchema>;
export type ReceiptsEvent = z.infer<typeof receiptsEventSchema>;
export type LeaveRequest = z.infer<typeof leaveRequestSchema>;
export type LeaveAck = z.infer<typeof leaveAckSchema>;

/** Events a client emits. Every one but `typing` carries an ack; the server answers each exactly once. */
export interface ClientToServerEvents {
  send: (batch: SendBatch, ack: (res: SendAck) => void) => void;
  join: (req: JoinRequest, ack: (res: JoinAck) => void) => void;
  history: (req: HistoryRequest, ack: (res: HistoryAck) => void) => void;
  ping: (req: PingRequest, ack: (res: PingAck) => void) => void;
  /** Creates a private room, named `name`; the creator is its first member. */
  createRoom: (req: CreateRoomRequest, ack: (res: CreateRoomAck) => void) => void;
  /** Moves the user's read cursors in a joined room up (see `receiptRequestSchema`). */
  receipt: (req: ReceiptRequest, ack: (res: ReceiptAck) => void) => void;
  /** Unsubscribes the socket from a room; a private room's membership ends with it. */
  leave: (req: LeaveRequest, ack: (res: LeaveAck) => void) => void;
  /** The user is typing (the one event without an ack: volatile, see `typingRequestSchema`). */
  typing: (req: TypingRequest) => void;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  messages: (event: MessagesEvent) => void;
  /** A room's newest seq (see `headEventSchema`). */
  head: (event: HeadEvent) => void;
  /** Someone in the room is typing (see `typingEventSchema`). */
  typing: (event: TypingEvent) => void;
  /** A member's read cursors moved (see `receiptsEventSchema`). */
  receipts: (event: ReceiptsEvent) => void;
}

/** Whether a log entry is an edit or a delete rather than a message. */
export function isOp(entry: LogEntry): entry is StoredOp {
  return 'kind' in entry && entry.kind !== undefined;
}
