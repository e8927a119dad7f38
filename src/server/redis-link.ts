import type { Redis } from 'ioredis';
import type { LinkLog } from './link-log.ts';

export interface RedisLinkEvents {
  /** True once the owner is closing the connection: that close is no outage. */
  closing(): boolean;
  /** The link is back after it was lost. */
  onRecovered?(): void;
}

/** What an ioredis error says, for a log line. */
export function describeRedisError(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * Tells `link` about an ioredis connection, so that an outage is logged once even while
 * nothing is sent. ioredis says `error` and then `close` on each failed attempt: the error
 * names the reason, the close is the change of state.
 */
export function watchRedisLink(connection: Redis, link: LinkLog, events: RedisLinkEvents): void {
  let lastError = '';
  // Without an `error` listener ioredis prints every failed attempt.
  connection.on('error', (error: Error) => {
    lastError = describeRedisError(error);
  });
  connection.on('close', () => {
    if (!events.closing()) link.down(lastError || 'the connection closed');
  });
  connection.on('ready', () => {
    lastError = '';
    const wasDown = link.state === 'down';
    link.up();
    if (wasDown) events.onRecovered?.();
  });
}
