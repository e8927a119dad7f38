// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../../src/client/connection.ts';
import { ConnectionIndicator } from '../../src/ui/components/ConnectionIndicator.tsx';

afterEach(cleanup);

const states: [ConnectionState, string, number | null][] = [
  [{ status: 'connecting' }, 'Connecting…', null],
  [{ status: 'connected', rttMs: null }, 'Connected', null],
  [{ status: 'connected', rttMs: 42.4 }, 'Connected · 42 ms', null],
  [{ status: 'disconnected', reason: 'transport close' }, 'Disconnected (transport close)', null],
  [{ status: 'reconnecting', attempt: 3, nextRetryAt: 0 }, 'Reconnecting (attempt 3)…', 4],
  [{ status: 'offline' }, 'Offline — messages will be sent when you are back online', null],
  [
    { status: 'failed', reason: 'session revoked' },
    "Can't reach the server: session revoked",
    null,
  ],
];

describe('ConnectionIndicator', () => {
  it.each(states)('renders %j as "%s"', (state, text, secondsToRetry) => {
    render(
      <ConnectionIndicator state={state} secondsToRetry={secondsToRetry} onRetryNow={() => {}} />,
    );
    const status = screen.getByTestId('connection-status');
    expect(status.getAttribute('data-state')).toBe(state.status);
    expect(status.getAttribute('aria-live')).toBe('polite');
    expect(status.textContent).toBe(text);
    expect(screen.queryByTestId('retry-now') !== null).toBe(state.status !== 'connected');
    expect(screen.queryByTestId('retry-countdown')?.textContent ?? null).toBe(
      secondsToRetry === null ? null : ` · next try in ${secondsToRetry} s`,
    );
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
