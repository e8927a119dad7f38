import type { z } from 'zod/mini';
import type { ErrorCode, WireError } from '../shared/errors.ts';

/** A refusal of a whole event, as its ack carries it. */
export function fail(
  code: ErrorCode,
  message: string,
  retryAfterMs?: number,
): { ok: false; error: WireError } {
  return {
    ok: false,
    error: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs },
  };
}

/** The first validation issue, in words a client developer can act on. */
export function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}
