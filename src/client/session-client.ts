import type { Session } from '../shared/protocol.ts';
import { sessionSchema } from '../shared/schemas.ts';

/** The server said no to a sign-up (as opposed to not being reachable). */
export class SignUpRefusedError extends Error {
  override name = 'SignUpRefusedError';
}

/** `POST /api/session`: creates a user with this display name and returns its session. */
export async function createSession(baseUrl: string, name: string): Promise<Session> {
  const response = await fetch(new URL('/api/session', baseUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    throw new SignUpRefusedError(
      typeof message === 'string' ? message : `sign-up failed (${response.status})`,
    );
  }
  const parsed = sessionSchema.safeParse(body);
  if (!parsed.success)
    throw new SignUpRefusedError('the server answered the sign-up with something unexpected');
  return parsed.data;
}
