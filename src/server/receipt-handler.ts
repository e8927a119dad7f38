import type { ReceiptAck, ReceiptsEvent } from '../shared/protocol.ts';
import { receiptRequestSchema } from '../shared/schemas.ts';
import { roomPayloadRefusal } from './room-payload.ts';
import type { FerrySocket } from './socket-types.ts';
import type { MessageStore } from './store/message-store.ts';
import { isStoreBusy, STORE_RETRY_AFTER_MS } from './store/store-errors.ts';
import { fail } from './wire.ts';

export interface ReceiptHandlerDeps {
  store: MessageStore;
  mayEnter(room: string, userId: string): Promise<boolean>;
  clock: () => number;
  /** Tells the room's sockets, on every process, that a member's cursors moved. */
  broadcast(event: ReceiptsEvent): void;
}

/**
 * The `receipt` event: the user's device says how far it has got in a room it joined
 * (`delivered`: stored contiguously; `read`: seen on screen). The store keeps the highest
 * of each (see MessageStore.setCursors), so repeats and stale values are harmless, and the
 * answer is the cursors as stored. When they moved, the room hears it as `receipts`: the
 * other members' devices show "delivered" and "read", and the user's own other devices
 * learn how far they have read.
 */
export function createReceiptHandler({ store, mayEnter, clock, broadcast }: ReceiptHandlerDeps) {
  return async function handleReceipt(socket: FerrySocket, payload: unknown): Promise<ReceiptAck> {
    const parsed = receiptRequestSchema.safeParse(payload);
    if (!parsed.success) return roomPayloadRefusal(parsed.error);
    const { room, delivered, read } = parsed.data;
    if (!socket.rooms.has(room)) return fail('forbidden', 'join the room first');
    const userId = socket.data.userId;
    try {
      // Joining checked the membership; it may have ended since (a `leave` on another device).
      if (!(await mayEnter(room, userId))) {
        return fail('forbidden', 'you are not a member of this room');
      }
      const stored = await store.setCursors(room, userId, { delivered, read }, clock());
      if (stored.moved) {
        broadcast({ room, userId, delivered: stored.delivered, read: stored.read });
      }
      return { ok: true, room, delivered: stored.delivered, read: stored.read };
    } catch (error) {
      if (!isStoreBusy(error)) throw error;
      return fail('internal', 'the database is busy; send it again shortly', STORE_RETRY_AFTER_MS);
    }
  };
}
