// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionIndicator } from '../../src/ui/components/ConnectionIndicator.tsx';
import { UpgradeRequiredNotice } from '../../src/ui/components/UpgradeRequiredNotice.tsx';

afterEach(cleanup);

describe('a tab whose build the server no longer serves', () => {
  it('is told, as an alert, that a new version of Ferry is needed', () => {
    render(<UpgradeRequiredNotice onReload={() => {}} />);
    const notice = screen.getByTestId('upgrade-required');
    expect(notice.getAttribute('role')).toBe('alert');
    expect(notice.textContent).toContain('A new version of Ferry is needed');
  });

  it('reloads when the Reload button is pressed', () => {
    const onReload = vi.fn();
    render(<UpgradeRequiredNotice onReload={onReload} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload' }));
    expect(onReload).toHaveBeenCalledOnce();
  });

  it('shows the state in the connection indicator too', () => {
    render(
      <ConnectionIndicator
        state={{ status: 'upgrade_required', reason: 'protocol 1 is too old' }}
        secondsToRetry={null}
        onRetryNow={() => {}}
      />,
    );
    const status = screen.getByTestId('connection-status');
    expect(status.getAttribute('data-state')).toBe('upgrade_required');
    expect(status.textContent).toContain('A new version of Ferry is needed');
  });
});
