import type { Session } from '../shared/protocol.ts';
import { sessionSchema } from '../shared/schemas.ts';

/** The server said no to a sign-up, for good (as opposed to not being reachable). */
export class SignUpRefusedError extends Error {
  override name = 'SignUpRefusedError';
}

/** The sign-up could not be done now (no network, a server error, a rate limit): retry. */
export class SignUpUnavailableError extends Error {
  override name = 'SignUpUnavailableError';
}

/**
 * `POST /api/session`: creates a user with this display name and returns its session.
 * `signupKey` makes it idempotent: the same key always signs in the same user.
 */
export async function createSession(
  baseUrl: string,
  request: { name: string; signupKey?: string },
): Promise<Session> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/session', baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
  } catch (error) {
    throw new SignUpUnavailableError(
      `the server could not be reached (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    const reason = typeof message === 'string' ? message : `sign-up failed (${response.status})`;
    // 429 and 5xx pass with time; any other 4xx would be refused again.
    const refused = response.status >= 400 && response.status < 500 && response.status !== 429;
    throw refused ? new SignUpRefusedError(reason) : new SignUpUnavailableError(reason);
  }
  const parsed = sessionSchema.safeParse(body);
  // Something between us and the server (a captive portal, say) answered instead.
  if (!parsed.success)
    throw new SignUpUnavailableError('the sign-up was answered with something unexpected');
  return parsed.data;
}
