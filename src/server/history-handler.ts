import type { HistoryAck } from '../shared/protocol.ts';
import { historyRequestSchema } from '../shared/schemas.ts';
import type { FerrySocket } from './socket-types.ts';
import type { MessageStore } from './store/message-store.ts';
import { describeIssue, fail } from './wire.ts';

export interface HistoryHandlerDeps {
  store: MessageStore;
  mayEnter(room: string, userId: string): Promise<boolean>;
}

/** The `history` event: one page of a room, after or before a seq, for members only. */
export function createHistoryHandler({ store, mayEnter }: HistoryHandlerDeps) {
  return async function handleHistory(socket: FerrySocket, payload: unknown): Promise<HistoryAck> {
    const parsed = historyRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', describeIssue(parsed.error));
    const request = parsed.data;
    if (!(await mayEnter(request.room, socket.data.userId)))
      return fail('forbidden', 'you are not a member of this room');
    const messages =
      'after' in request
        ? await store.pageAfter(request.room, request.after, request.limit)
        : await store.pageBefore(request.room, request.before, request.limit);
    return {
      ok: true,
      room: request.room,
      messages,
      latestSeq: await store.latestSeq(request.room),
    };
  };
}
