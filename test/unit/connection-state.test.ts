import { describe, expect, it } from 'vitest';
import {
  type ConnectionEvent,
  type ConnectionState,
  reduceConnection,
} from '../../src/client/connection-state.ts';

const connecting: ConnectionState = { status: 'connecting' };
const connected: ConnectionState = { status: 'connected', rttMs: 40 };
const disconnected: ConnectionState = { status: 'disconnected', reason: 'transport close' };
const reconnecting: ConnectionState = { status: 'reconnecting', attempt: 2, nextRetryAt: 5_000 };
const offline: ConnectionState = { status: 'offline' };
const failed: ConnectionState = { status: 'failed', reason: 'refused' };
const upgradeRequired: ConnectionState = { status: 'upgrade_required', reason: 'too old' };

const scheduled: ConnectionEvent = {
  type: 'retry_scheduled',
  attempt: 3,
  delayMs: 2_000,
  now: 10_000,
};

describe('reduceConnection', () => {
  const table: [string, ConnectionState, ConnectionEvent, ConnectionState][] = [
    [
      'a connect request from anywhere starts connecting',
      failed,
      { type: 'connect_requested' },
      connecting,
    ],
    [
      'a connect request leaves offline (retry now, online)',
      offline,
      { type: 'connect_requested' },
      connecting,
    ],
    [
      'a handshake that succeeds connects, with no RTT yet',
      connecting,
      { type: 'connected' },
      { status: 'connected', rttMs: null },
    ],
    [
      'a reconnect that succeeds connects',
      reconnecting,
      { type: 'connected' },
      { status: 'connected', rttMs: null },
    ],
    [
      'a lost link disconnects with its reason',
      connected,
      { type: 'link_lost', reason: 'ping timeout' },
      { status: 'disconnected', reason: 'ping timeout' },
    ],
    [
      'a scheduled retry shows the attempt and when it happens',
      disconnected,
      scheduled,
      { status: 'reconnecting', attempt: 3, nextRetryAt: 12_000 },
    ],
    [
      'a failed connect reschedules with the next attempt',
      reconnecting,
      scheduled,
      { status: 'reconnecting', attempt: 3, nextRetryAt: 12_000 },
    ],
    [
      'exhausted attempts fail with a reason',
      reconnecting,
      { type: 'attempts_exhausted', attempts: 10 },
      { status: 'failed', reason: 'the server could not be reached after 10 attempts' },
    ],
    [
      'a refused handshake fails with the server reason',
      connecting,
      { type: 'handshake_refused', reason: 'bad token' },
      { status: 'failed', reason: 'bad token' },
    ],
    ['going offline wins over connected', connected, { type: 'went_offline' }, offline],
    ['going offline wins over reconnecting', reconnecting, { type: 'went_offline' }, offline],
    [
      'a late link loss does not leave offline',
      offline,
      { type: 'link_lost', reason: 'transport close' },
      offline,
    ],
    ['a late retry does not leave offline', offline, scheduled, offline],
    [
      'a late link loss does not leave failed',
      failed,
      { type: 'link_lost', reason: 'transport close' },
      failed,
    ],
    [
      'a measured RTT is shown while connected',
      connected,
      { type: 'rtt_measured', rttMs: 12 },
      { status: 'connected', rttMs: 12 },
    ],
    [
      'an RTT measured after the link dropped is ignored',
      disconnected,
      { type: 'rtt_measured', rttMs: 12 },
      disconnected,
    ],
    [
      'a handshake refused as too old waits for a reload',
      connecting,
      { type: 'upgrade_required', reason: 'too old' },
      upgradeRequired,
    ],
    [
      'a connect request does not leave upgrade_required (only a reload can)',
      upgradeRequired,
      { type: 'connect_requested' },
      upgradeRequired,
    ],
    ['a late retry does not leave upgrade_required', upgradeRequired, scheduled, upgradeRequired],
    [
      'going offline does not hide that an upgrade is required',
      upgradeRequired,
      { type: 'went_offline' },
      upgradeRequired,
    ],
    [
      'closing by the app disconnects',
      connected,
      { type: 'closed' },
      { status: 'disconnected', reason: 'closed' },
    ],
  ];

  it.each(table)('%s', (_name, state, event, expected) => {
    expect(reduceConnection(state, event)).toEqual(expected);
  });

  it('returns the same object when an event changes nothing, so nobody re-renders', () => {
    expect(reduceConnection(offline, scheduled)).toBe(offline);
  });
});
