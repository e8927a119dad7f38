// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StorageLoss } from '../../src/client/engine.ts';
import { StorageLostNotice } from '../../src/ui/components/StorageLostNotice.tsx';

afterEach(cleanup);

const cases: [StorageLoss, string][] = [
  ['version_change', 'Ferry was updated in another tab — reload to continue'],
  ['closed', 'Storage was closed by the browser — reload'],
];

describe('the notice shown when the database is gone', () => {
  it.each(cases)('says why (%s) as an alert: "%s"', (loss, text) => {
    render(<StorageLostNotice loss={loss} onReload={() => {}} />);
    const notice = screen.getByRole('alert');
    expect(notice.getAttribute('data-reason')).toBe(loss);
    expect(notice.textContent).toContain(text);
  });

  it.each(cases)('reloads when its button is pressed (%s)', (loss) => {
    const onReload = vi.fn();
    render(<StorageLostNotice loss={loss} onReload={onReload} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload' }));
    expect(onReload).toHaveBeenCalledOnce();
  });
});
