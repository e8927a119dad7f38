// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../../src/client/connection.ts';
import { ConnectionIndicator } from '../../src/ui/components/ConnectionIndicator.tsx';

afterEach(cleanup);

const states: [ConnectionState, string, number | null][] = [
  [{ status: 'connecting' }, 'Connecting…', null],
  [{ status: 'connected', rttMs: null }, 'Connected', null],
  [{ status: 'connected', rttMs: 42.4 }, 'Connected', null],
  [{ status: 'disconnected', reason: 'transport close' }, 'Disconnected (transport close)', null],
  [{ status: 'reconnecting', attempt: 3, nextRetryAt: 0 }, 'Reconnecting (attempt 3)…', 4],
  [{ status: 'offline' }, 'Offline — messages will be sent when you are back online', null],
  [
    { status: 'failed', reason: 'session revoked' },
    "Can't reach the server: session revoked",
    null,
  ],
  [
    { status: 'upgrade_required', reason: 'protocol 1 is too old' },
    'A new version of Ferry is needed — reload to continue',
    null,
  ],
];

/** Retrying cannot help a connected link, nor one that only a newer build can open. */
const retryHelps = (state: ConnectionState) =>
  state.status !== 'connected' && state.status !== 'upgrade_required';

describe('ConnectionIndicator', () => {
  it.each(states)('renders %j as "%s"', (state, text, secondsToRetry) => {
    render(
      <ConnectionIndicator state={state} secondsToRetry={secondsToRetry} onRetryNow={() => {}} />,
    );
    const status = screen.getByTestId('connection-status');
    expect(status.getAttribute('data-state')).toBe(state.status);
    expect(status.getAttribute('aria-live')).toBe('polite');
    expect(status.textContent).toBe(text);
    expect(screen.queryByTestId('retry-now') !== null).toBe(retryHelps(state));
    expect(screen.queryByTestId('retry-countdown')?.textContent ?? null).toBe(
      secondsToRetry === null ? null : ` · next try in ${secondsToRetry} s`,
    );
  });

  it('keeps the round-trip time out of the live region, so a new measurement is not read out', () => {
    const { rerender } = render(
      <ConnectionIndicator
        state={{ status: 'connected', rttMs: 40 }}
        secondsToRetry={null}
        onRetryNow={() => {}}
      />,
    );
    const live = document.querySelector('[aria-live]');
    const before = live?.textContent;
    rerender(
      <ConnectionIndicator
        state={{ status: 'connected', rttMs: 55 }}
        secondsToRetry={null}
        onRetryNow={() => {}}
      />,
    );
    expect(document.querySelectorAll('[aria-live]')).toHaveLength(1);
    expect(live?.textContent).toBe(before);
    expect(screen.getByTestId('connection-rtt').textContent).toBe(' · 55 ms');
  });

  it('retries at once when "Retry now" is pressed', () => {
    const onRetryNow = vi.fn();
    render(
      <ConnectionIndicator
        state={{ status: 'failed', reason: 'x' }}
        secondsToRetry={null}
        onRetryNow={onRetryNow}
      />,
    );
    fireEvent.click(screen.getByTestId('retry-now'));
    expect(onRetryNow).toHaveBeenCalledTimes(1);
  });
});
