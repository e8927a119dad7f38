import { createAdapter, type RedisStreamsAdapterOptions } from '@socket.io/redis-streams-adapter';
import { Redis, type RedisOptions } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import { createLinkLog } from './link-log.ts';
import type { Logger } from './logger.ts';
import { linkCheck, type ReadinessCheck } from './readiness.ts';
import { withoutPassword } from './redacted-url.ts';
import { watchRedisLink } from './redis-link.ts';

/**
 * The stream every Ferry process appends its broadcasts to and reads the others' from.
 * Ferry's own name, so that a Redis shared with other socket.io apps keeps them apart.
 */
export const FANOUT_STREAM = 'ferry:fanout';

/**
 * Entries the stream keeps (trimmed with `~`, so a little more). A process cut off from
 * Redis resumes reading where it stopped, if what it missed is still there: 60,000 entries
 * (one a broadcast, i.e. one batch) cover 30 s of a cluster at 2,000 broadcasts/s, one
 * node's measured peak (docs/benchmarks.md), or 60 s at 1,000/s. Past that, what was
 * trimmed is repaired by the clients' catch-up. See docs/scale-out.md, "Sizing maxLen".
 */
export const FANOUT_STREAM_MAX_LEN = 60_000;

/** How long a stream read waits on Redis for new entries (the adapter's `blockTimeInMs`). */
const READ_BLOCK_MS = 5_000;

/**
 * Silence after which a connection with a command in flight is taken for dead (a half-open
 * link: Redis's host gone without a reset) and reopened. A publish answers in a
 * millisecond; a stream read may rightly wait READ_BLOCK_MS for its answer.
 */
const PUBLISH_SILENCE_MS = 2_000;
const READ_SILENCE_MS = READ_BLOCK_MS + 2_000;

/** Reconnect attempts back off to one a second, and never stop. */
const RECONNECT_MAX_DELAY_MS = 1_000;
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS);

/**
 * The publishing connection. The adapter awaits each publish (XADD) before it delivers the
 * broadcast to this process's own sockets, and a send never waits for either. While Redis
 * is away a publish must therefore fail at once: queued, it would hold up local delivery
 * and grow with every message for as long as the outage lasts. So there is no offline
 * queue, and what is in flight when the link drops fails at the first reconnect attempt
 * (`maxRetriesPerRequest: 0`). Those live events are lost to the other processes; their
 * clients' catch-up repairs that (docs/scale-out.md, "While Redis is down").
 */
const PUBLISHER_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  socketTimeout: PUBLISH_SILENCE_MS,
  retryStrategy: reconnectDelay,
};

/**
 * The adapter's own connections (its stream reader and its pub/sub subscriber), made with
 * `duplicate()`. Each has at most one command waiting (the next read, or its SUBSCRIBE), so
 * queueing it until Redis is back costs nothing and must never fail: the adapter retries a
 * failed read at once, with no pause, and does not catch a failed SUBSCRIBE (an unhandled
 * rejection would end the process).
 */
const LISTENER_OPTIONS: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  socketTimeout: READ_SILENCE_MS,
  retryStrategy: reconnectDelay,
};

/**
 * Ferry uses no broadcast with acks, `serverSideEmit` nor `fetchSockets`: the adapter sends
 * those over pub/sub and does not catch a failed PUBLISH. Broadcasts and
 * `disconnectSockets` (a session revoked on one process closes its sockets on all) go
 * through the stream, and a failure there is caught.
 */
const ADAPTER_OPTIONS: RedisStreamsAdapterOptions = {
  streamName: FANOUT_STREAM,
  channelPrefix: FANOUT_STREAM,
  maxLen: FANOUT_STREAM_MAX_LEN,
  // Entries a read takes at once, and so handles in one turn of the event loop: a process
  // back from an outage works through its backlog in such slices between other work.
  readCount: 100,
  blockTimeInMs: READ_BLOCK_MS,
  // Ferry's events are JSON: the adapter need not look for binary data in each broadcast.
  onlyPlaintext: true,
  // sessionKeyPrefix is left as is: it serves connection-state recovery, which Ferry keeps
  // off (see ferry-server.ts).
};

/**
 * The connection the adapter is given. The adapter opens its listeners by duplicating it,
 * and they need the opposite queue policy: duplicates get LISTENER_OPTIONS.
 */
class PublisherConnection extends Redis {
  readonly #duplicates = new Set<Redis>();

  override duplicate(override?: Partial<RedisOptions>): Redis {
    const connection = new Redis({ ...this.options, ...LISTENER_OPTIONS, ...override });
    this.#duplicates.add(connection);
    return connection;
  }

  /** Closes this connection and every duplicate at once, without waiting on Redis. */
  disconnectAll(): void {
    this.disconnect();
    for (const connection of this.#duplicates) connection.disconnect();
  }
}

/** Live fan-out between Ferry processes over Redis Streams (`FERRY_REDIS_URL`). */
export interface RedisFanout {
  /** socket.io's `adapter` server option. */
  adapter: NonNullable<ServerOptions['adapter']>;
  /** The Redis it uses, for the startup line (never a password). */
  description: string;
  /** `redisFanout` in /readyz: the link's state, reported; the process stays ready without it. */
  readiness: ReadinessCheck;
  /**
   * Calls `listener` each time the link comes back after it was lost: the broadcasts
   * published meanwhile by this process and by the others may not have been delivered.
   */
  onRecovered(listener: () => void): void;
  /**
   * Lets Redis go. Call it once the socket.io server using `adapter` is closed (its
   * adapter then stops reading): a reader whose connection is closed under it retries at
   * once, in a loop.
   */
  close(): void;
}

/**
 * The Redis Streams adapter over connections to `url` (redis:// or rediss://). It connects
 * in the background and retries forever: Redis carries only live events, the database is
 * the truth, and no send waits for Redis or fails because of it.
 */
export function createRedisFanout(url: string, log: Logger): RedisFanout {
  const description = withoutPassword(url);
  const publisher = new PublisherConnection(url, PUBLISHER_OPTIONS);
  const link = createLinkLog({
    name: `Redis fan-out (${description})`,
    whileDown: "live messages reach this process's own clients only, the others catch up later",
    log,
  });
  let closing = false;
  const recovered: (() => void)[] = [];
  // The listeners share the publisher's fate: its link stands for all three.
  watchRedisLink(publisher, link, {
    closing: () => closing,
    onRecovered: () => {
      for (const listener of recovered) listener();
    },
  });
  return {
    adapter: createAdapter(publisher, ADAPTER_OPTIONS),
    description,
    readiness: linkCheck('redisFanout', link),
    onRecovered: (listener) => recovered.push(listener),
    close() {
      closing = true;
      publisher.disconnectAll();
    },
  };
}
