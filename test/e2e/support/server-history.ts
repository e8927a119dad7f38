import { MAX_HISTORY_PAGE } from '../../../src/shared/limits.ts';
import { type LogEntry, PROTOCOL_VERSION } from '../../../src/shared/protocol.ts';
import { historyAckSchema } from '../../../src/shared/schemas.ts';
import { emitRaw, rawClient, signUp } from '../../support/raw-client.ts';

/**
 * A room's whole history as the server stored it, in seq order, read by a user of its own
 * over a bare socket.io client: what every device will see, duplicates and order included,
 * without the 200-message window a browser's first visit loads.
 */
export async function serverHistory(url: string, room: string): Promise<LogEntry[]> {
  const { token } = await signUp(url, 'History reader');
  const socket = await rawClient(url, { token, protocol: PROTOCOL_VERSION });
  try {
    await emitRaw(socket, 'join', { room });
    const stored: LogEntry[] = [];
    for (;;) {
      const after = stored.at(-1)?.seq ?? 0;
      const page = historyAckSchema.parse(
        await emitRaw(socket, 'history', { room, after, limit: MAX_HISTORY_PAGE }),
      );
      if (!page.ok) throw new Error(`history refused: ${JSON.stringify(page.error)}`);
      stored.push(...page.messages);
      if (page.messages.length === 0 || (stored.at(-1)?.seq ?? 0) >= page.latestSeq) {
        return stored;
      }
    }
  } finally {
    socket.close();
  }
}
