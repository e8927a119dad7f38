// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type StorageLoss } from '../../src/client/engine.ts';
import { DB_VERSION } from '../../src/client/local-db.ts';
import { StorageBlockedNotice } from '../../src/ui/components/StorageBlockedNotice.tsx';
import { StorageLostNotice } from '../../src/ui/components/StorageLostNotice.tsx';
import { StorageUnavailableNotice } from '../../src/ui/components/StorageUnavailableNotice.tsx';
import type { ComposerState } from '../../src/ui/composer-activity.ts';
import { afterStorageLoss, type StorageLossAction } from '../../src/ui/storage-loss-decision.ts';
import { deviceName } from '../support/engine.ts';

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

  it('tells a tab asked to reload after an update that its draft and outbox are kept', () => {
    render(<StorageLostNotice loss="version_change" onReload={() => {}} />);
    expect(screen.getByRole('alert').textContent).toContain(
      'Nothing is lost: unsent messages and what you were typing come back after it.',
    );
  });

  it('promises nothing of the kind when the browser closed the storage', () => {
    render(<StorageLostNotice loss="closed" onReload={() => {}} />);
    expect(screen.getByRole('alert').textContent).not.toContain('Nothing is lost');
  });

  it.each(cases)('reloads when its button is pressed (%s)', (loss) => {
    const onReload = vi.fn();
    render(<StorageLostNotice loss={loss} onReload={onReload} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reload' }));
    expect(onReload).toHaveBeenCalledOnce();
  });
});

/** What Engine.create rejects with on this device, as the app's boot would catch it. */
async function failureToOpen(dbName: string): Promise<unknown> {
  try {
    const engine = await Engine.create({
      url: 'http://127.0.0.1:9',
      dbName,
      connectivity: { isOnline: () => false, subscribe: () => () => {} },
    });
    await engine.destroy();
  } catch (error) {
    return error;
  }
  throw new Error('the database opened');
}

describe('the notice shown when the database cannot be opened', () => {
  it('says a newer version saved the data, that unsent messages are kept, and never to clear anything', async () => {
    const dbName = deviceName('rolled-back');
    await new Promise<void>((resolve, reject) => {
      const newer = indexedDB.open(dbName, DB_VERSION + 1);
      newer.onsuccess = () => {
        newer.result.close();
        resolve();
      };
      newer.onerror = () => reject(newer.error);
    });
    const onReload = vi.fn();
    render(<StorageUnavailableNotice error={await failureToOpen(dbName)} onReload={onReload} />);

    const notice = screen.getByRole('alert');
    expect(notice.getAttribute('data-reason')).toBe('newer_version');
    expect(notice.textContent).toContain('This copy of Ferry is older than the data');
    expect(notice.textContent).toContain('your unsent messages are kept');
    expect(notice.textContent).not.toMatch(/private browsing|clear|blocked site data/i);
    fireEvent.click(screen.getByRole('button', { name: 'Reload' }));
    expect(onReload).toHaveBeenCalledOnce();
  });

  it('blames private browsing or blocked site data for any other failure, with the details', () => {
    const error = new DOMException('The user denied permission.', 'UnknownError');
    render(<StorageUnavailableNotice error={error} onReload={() => {}} />);
    const notice = screen.getByRole('alert');
    expect(notice.getAttribute('data-reason')).toBe('unavailable');
    expect(notice.textContent).toMatch(/Private browsing or blocked site data/);
    expect(notice.textContent).toContain('The user denied permission.');
  });
});

const idle: ComposerState = { writing: false, sending: false };
const writing: ComposerState = { writing: true, sending: false };
const sending: ComposerState = { writing: false, sending: true };

describe('what a tab does once its database is taken away', () => {
  const table: [StorageLoss, string, ComposerState, StorageLossAction][] = [
    ['version_change', 'idle', idle, 'reload'],
    ['version_change', 'writing', writing, 'ask'],
    ['version_change', 'sending', sending, 'ask'],
    ['version_change', 'writing and sending', { writing: true, sending: true }, 'ask'],
    ['closed', 'idle', idle, 'ask'],
    ['closed', 'writing', writing, 'ask'],
  ];

  it.each(table)(
    'after %s with the composer %s, it does "%s"',
    (loss, _label, composer, action) => {
      expect(afterStorageLoss(loss, composer)).toBe(action);
    },
  );
});

describe('the notice shown while a newer version waits for an older tab', () => {
  it('says, as an alert, that an older Ferry tab holds the storage and what to do', () => {
    render(<StorageBlockedNotice />);
    const notice = screen.getByRole('alert');
    expect(notice.getAttribute('data-testid')).toBe('storage-blocked');
    expect(notice.textContent).toContain('another Ferry tab with the older version');
    expect(notice.textContent).toContain('Switch to your other Ferry tabs, or close them');
    expect(notice.textContent).toContain('nothing is lost');
  });
});
