import type { FerrySocket } from './socket-types.ts';
import type { TokenBuckets } from './token-bucket.ts';
import { fail } from './wire.ts';

/**
 * Wraps a request handler in its user's token bucket: one token a request, taken before
 * anything is read or written, so a refused request costs the server next to nothing. The
 * refusal is a `rate_limited` answer with the bucket's `retryAfterMs` (clamped like every
 * such answer), which Ferry's client waits out before asking again.
 */
export function withBudget<Answer>(
  buckets: TokenBuckets,
  what: string,
  handle: (socket: FerrySocket, payload: unknown) => Promise<Answer>,
): (socket: FerrySocket, payload: unknown) => Promise<Answer | ReturnType<typeof fail>> {
  return async (socket, payload) => {
    const grant = buckets.take(socket.data.userId, 1);
    if (grant.granted === 0) {
      return fail('rate_limited', `too many ${what}; ask again later`, grant.retryAfterMs);
    }
    return handle(socket, payload);
  };
}
