/**
 * What the composer says when `engine.send` fails. Nothing was queued then (the outbox
 * write is one transaction), and messages queued before are untouched.
 */
export function describeSendError(error: unknown): string {
  if (isQuotaExceeded(error)) {
    return (
      'This device has no storage space left for Ferry, so this message was not saved. ' +
      'Messages already waiting are safe. Free up some space, then press Send again.'
    );
  }
  return error instanceof Error ? error.message : String(error);
}

/** IndexedDB reports a full disk as a DOMException named QuotaExceededError. */
function isQuotaExceeded(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'QuotaExceededError'
  );
}
