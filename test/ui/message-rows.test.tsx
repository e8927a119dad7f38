// @vitest-environment happy-dom
// What each row of the list carries besides its message: the day it starts, and how little
// re-renders when the receipts move.
import { cleanup, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { formatMessageTime } from '../../src/ui/format.ts';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';
import { pendingMessage, roomSnapshot, sentMessage } from './fixtures.ts';

// Every sent row formats its time once per render: the count of calls is the count of rows
// rendered.
vi.mock('../../src/ui/format.ts', async (original) => {
  const actual = await original<typeof import('../../src/ui/format.ts')>();
  return { ...actual, formatMessageTime: vi.fn(actual.formatMessageTime) };
});

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('message-rows'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

function page(snapshot: RoomSnapshot) {
  return (
    <EngineProvider engine={engine}>
      <MessageList snapshot={snapshot} me="u-ada" />
    </EngineProvider>
  );
}

describe('day separators', () => {
  it('start each day (Yesterday, Today) outside the message’s element', () => {
    const now = Date.now();
    const today = new Date(now);
    // Noon the day before: yesterday on any day, long or short (daylight saving).
    const yesterday = new Date(
      today.getFullYear(),
      today.getMonth(),
      today.getDate() - 1,
      12,
    ).getTime();
    render(
      page(
        roomSnapshot({
          messages: [
            sentMessage(1, 'u-grace', { ts: yesterday }),
            sentMessage(2, 'u-grace', { ts: yesterday + 1 }),
            sentMessage(3, 'u-grace', { ts: now }),
            { ...pendingMessage(4, 'u-ada'), createdAt: now },
          ],
          receipts: { read: 3, othersDelivered: 0, othersRead: 0 },
        }),
      ),
    );
    const separators = Array.from(document.querySelectorAll('.day-separator'));
    expect(separators.map((separator) => separator.textContent)).toEqual(['Yesterday', 'Today']);
    const dayOf = (separator: Element) =>
      separator.closest('.message-row')?.querySelector('[data-testid=message]');
    const rows = screen.getAllByTestId('message');
    expect(separators.map(dayOf)).toEqual([rows[0], rows[2]]);
    for (const row of rows) expect(row.textContent).not.toMatch(/Yesterday|Today/);
  });
});

describe('receipts moving on', () => {
  it('re-render only the rows whose receipt changed', () => {
    const snapshot = roomSnapshot({
      messages: [1, 2, 3, 4].map((seq) => sentMessage(seq, 'u-ada')),
      receipts: { read: 4, othersDelivered: 2, othersRead: 1 },
    });
    const { rerender } = render(page(snapshot));
    const format = vi.mocked(formatMessageTime);
    expect(format).toHaveBeenCalledTimes(4);
    format.mockClear();
    // Message 2 goes from delivered to read, 3 from sent to delivered; 1 and 4 stay as they were.
    rerender(page({ ...snapshot, receipts: { read: 4, othersDelivered: 3, othersRead: 2 } }));
    expect(screen.getAllByTestId('message').map((row) => row.dataset.receipt)).toEqual([
      'read',
      'read',
      'delivered',
      'sent',
    ]);
    expect(format).toHaveBeenCalledTimes(2);
  });
});
