import type { SendAck, SendBatch } from '../shared/protocol.ts';
import { sendAckSchema } from '../shared/schemas.ts';
import { settleAck, settleOversize } from './ack-settlement.ts';
import type { Connection } from './connection.ts';
import type { FlushPort } from './flusher.ts';
import type { IdentityKeeper } from './identity-keeper.ts';
import type { RoomSync } from './room-sync.ts';
import type { OutboxEntry } from './types.ts';

/**
 * The flush loop's one way into the rest of the engine: how a batch goes out (`send`, over
 * the connection) and how its ack comes home (`settle`: ack-settlement.ts decides, message
 * by message, and RoomSync records it in one transaction).
 */
export class EngineFlushPort implements FlushPort {
  readonly #connection: Connection;
  readonly #identity: IdentityKeeper;
  readonly #rooms: RoomSync;
  readonly #clock: () => number;

  constructor(deps: {
    connection: Connection;
    identity: IdentityKeeper;
    rooms: RoomSync;
    clock: () => number;
  }) {
    this.#connection = deps.connection;
    this.#identity = deps.identity;
    this.#rooms = deps.rooms;
    this.#clock = deps.clock;
  }

  isConnected(): boolean {
    return this.#connection.connected;
  }

  send(batch: SendBatch): Promise<SendAck> {
    return this.#connection.request('send', batch, sendAckSchema);
  }

  /** Sent, failed or held, message by message; answers the rate limit's wait, if any. */
  async settle(
    entries: readonly OutboxEntry[],
    ack: SendAck,
  ): Promise<{ retryAfterMs: number | null }> {
    const settlement = settleAck(entries, ack, this.#context());
    await this.#rooms.applySettlement(entries[0]?.room ?? '', settlement);
    return { retryAfterMs: settlement.retryAfterMs };
  }

  async failOversize(entry: OutboxEntry): Promise<void> {
    await this.#rooms.applySettlement(entry.room, settleOversize(entry, this.#context()));
  }

  recycle(): void {
    this.#connection.reconnectNow();
  }

  /** The session the batch went out under: the server stored it as this author. */
  #context() {
    return { author: this.#identity.author, now: this.#clock() };
  }
}
