import { v7 as uuidv7 } from 'uuid';

/**
 * A new message id. UUIDv7 is time-ordered, so ids typed later sort later, and random
 * enough to double as the idempotency key the server dedups on.
 */
export function newMessageId(): string {
  return uuidv7();
}
