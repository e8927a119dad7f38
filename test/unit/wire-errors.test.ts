import { describe, expect, it } from 'vitest';
import { sendAckSchema } from '../../src/shared/schemas.ts';

// A newer server may answer codes this build has never heard of. They must parse (as a
// transient `internal`, message kept), or an old tab would fail every ack and reconnect
// forever.
describe('error codes this build does not know', () => {
  it('parse, in a refused batch, as internal with their message and wait', () => {
    const ack = sendAckSchema.parse({
      ok: false,
      error: { code: 'quota_exceeded', message: 'the room is full', retryAfterMs: 3_000 },
    });
    expect(ack).toEqual({
      ok: false,
      error: { code: 'internal', message: 'the room is full', retryAfterMs: 3_000 },
    });
  });

  it('parse, in a rejected message, as internal with its reason', () => {
    const ack = sendAckSchema.parse({
      ok: true,
      results: [{ id: 'm1', status: 'rejected', code: 'quota_exceeded', reason: 'full' }],
    });
    expect(ack).toEqual({
      ok: true,
      results: [{ id: 'm1', status: 'rejected', code: 'internal', reason: 'full' }],
    });
  });

  it('leave the codes this build knows as they are', () => {
    const error = { code: 'rate_limited', message: 'slow down', retryAfterMs: 500 };
    expect(sendAckSchema.parse({ ok: false, error })).toEqual({ ok: false, error });
  });
});
