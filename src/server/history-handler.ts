import type { HistoryAck, LogEntry } from '../shared/protocol.ts';
import { historyRequestSchema } from '../shared/schemas.ts';
import { SharedReads } from './shared-reads.ts';
import type { FerrySocket } from './socket-types.ts';
import type { MessageStore } from './store/message-store.ts';
import { describeIssue, fail } from './wire.ts';

export interface HistoryHandlerDeps {
  store: MessageStore;
  mayEnter(room: string, userId: string): Promise<boolean>;
}

/**
 * The `history` event: one page of a room, after or before a seq, for members only. Every
 * caller is checked on its own; identical reads that overlap then share one query (a page
 * of a room is the same for every member who may see it).
 */
export function createHistoryHandler({ store, mayEnter }: HistoryHandlerDeps) {
  const pages = new SharedReads<LogEntry[]>();
  const latest = new SharedReads<number>();
  return async function handleHistory(socket: FerrySocket, payload: unknown): Promise<HistoryAck> {
    const parsed = historyRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', describeIssue(parsed.error));
    const request = parsed.data;
    const { room, limit } = request;
    if (!(await mayEnter(room, socket.data.userId)))
      return fail('forbidden', 'you are not a member of this room');
    const messages =
      'after' in request
        ? await pages.read(`${room} after ${request.after} ${limit}`, () =>
            store.pageAfter(room, request.after, limit),
          )
        : await pages.read(`${room} before ${request.before} ${limit}`, () =>
            store.pageBefore(room, request.before, limit),
          );
    const latestSeq = await latest.read(room, () => store.latestSeq(room));
    return { ok: true, room, messages, latestSeq };
  };
}
