/**
 * The connection state machine: a discriminated union and one reducer, free of timers and
 * sockets so every transition can be tested as a table. `connection.ts` feeds it events.
 *
 *                 connect_requested
 *   (any) ─────────────────────────────▶ connecting ──connected──▶ connected
 *                                           ▲                        │ link_lost
 *        retry_scheduled / attempt_started  │                        ▼
 *   reconnecting ◀──────────────────────────┴─────────────────── disconnected
 *        │ attempts_exhausted                     handshake_refused
 *        ▼                                                │
 *      failed ◀───────────────────────────────────────────┘
 *   (any) ──went_offline──▶ offline   (link events are ignored until connect_requested)
 *   (any) ──upgrade_required──▶ upgrade_required   (for good: only a reload of the app helps)
 */

export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected'; rttMs: number | null }
  /** The link dropped; socket.io is about to schedule the next attempt. */
  | { status: 'disconnected'; reason: string }
  | { status: 'reconnecting'; attempt: number; nextRetryAt: number }
  /** The platform reports no network: no attempts are made until it comes back. */
  | { status: 'offline' }
  /** Attempts exhausted or the server refused the handshake: waits for retry-now. */
  | { status: 'failed'; reason: string }
  /**
   * The server no longer serves this build's protocol. No attempt is made again (each
   * would be refused the same way); the outbox waits for the reload that brings a newer
   * build.
   */
  | { status: 'upgrade_required'; reason: string };

export type ConnectionStatus = ConnectionState['status'];

export type ConnectionEvent =
  | { type: 'connect_requested' }
  | { type: 'connected' }
  | { type: 'link_lost'; reason: string }
  | { type: 'retry_scheduled'; attempt: number; delayMs: number; now: number }
  | { type: 'attempts_exhausted'; attempts: number }
  | { type: 'handshake_refused'; reason: string }
  | { type: 'upgrade_required'; reason: string }
  | { type: 'went_offline' }
  | { type: 'rtt_measured'; rttMs: number }
  | { type: 'closed' };

export const INITIAL_CONNECTION_STATE: ConnectionState = { status: 'connecting' };

/** States in which socket.io's own loop is stopped, so its late link events mean nothing. */
function isParked(state: ConnectionState): boolean {
  return state.status === 'offline' || state.status === 'failed';
}

export function reduceConnection(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  // This build can never connect again: no event but the app's own close changes that.
  if (state.status === 'upgrade_required' && event.type !== 'closed') return state;
  switch (event.type) {
    case 'connect_requested':
      return { status: 'connecting' };
    case 'connected':
      return { status: 'connected', rttMs: null };
    case 'link_lost':
      return isParked(state) ? state : { status: 'disconnected', reason: event.reason };
    case 'retry_scheduled':
      return isParked(state)
        ? state
        : {
            status: 'reconnecting',
            attempt: event.attempt,
            nextRetryAt: event.now + event.delayMs,
          };
    case 'attempts_exhausted':
      return {
        status: 'failed',
        reason: `the server could not be reached after ${event.attempts} attempts`,
      };
    case 'handshake_refused':
      return { status: 'failed', reason: event.reason };
    case 'upgrade_required':
      return { status: 'upgrade_required', reason: event.reason };
    case 'went_offline':
      return { status: 'offline' };
    case 'rtt_measured':
      return state.status === 'connected' ? { status: 'connected', rttMs: event.rttMs } : state;
    case 'closed':
      return { status: 'disconnected', reason: 'closed' };
  }
}
