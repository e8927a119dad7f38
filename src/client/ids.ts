import { v7 as uuidv7 } from 'uuid';

/**
 * A new message id. UUIDv7 is time-ordered, so ids typed later sort later, and random
 * enough to double as the idempotency key the server dedups on.
 */
export function newMessageId(): string {
  return uuidv7();
}

/** Bytes of a sign-up key: as unguessable as a session token. */
const SIGNUP_KEY_BYTES = 32;

/** A new sign-up key (see Identity.signupKey): 32 random bytes, base64url. */
export function newSignupKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SIGNUP_KEY_BYTES));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
