// @vitest-environment happy-dom
// A long room (past the plain list's limit) opened with unread messages: its newest rows
// show while the virtualiser loads, and then the room is at its unread line. Each test loads
// the list afresh, so that the virtualiser is not loaded yet when it opens.
import { act, cleanup, render } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { deviceName } from '../support/engine.ts';
import { fakeLayout } from './fake-layout.ts';
import { roomSnapshot, sentMessage } from './fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('long-room-unread'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
beforeEach(() => vi.resetModules());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** Opens 600 messages of Grace read up to `read`, with a list not loaded before. */
async function openLongRoom(read: number) {
  const { MessageList } = await import('../../src/ui/components/MessageList.tsx');
  const { EngineProvider } = await import('../../src/ui/hooks/useEngine.tsx');
  const messages = Array.from({ length: 600 }, (_, i) => sentMessage(i + 1, 'u-grace'));
  const snapshot = roomSnapshot({
    messages,
    receipts: { read, othersDelivered: 0, othersRead: 0 },
  });
  render(
    <EngineProvider engine={engine}>
      <MessageList snapshot={snapshot} me="u-ada" />
    </EngineProvider>,
  );
  // The newest rows first, plainly.
  expect(document.querySelector('.message-list-virtual')).toBeNull();
  await vi.waitFor(() => expect(document.querySelector('.message-list-virtual')).not.toBeNull());
  await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
}

// Rows of the virtualiser's estimate, so that its offsets are the layout's.
const ROW_PX = 64;

it('goes to an unread line above the newest rows once the virtualiser is there, marking nothing it showed before', async () => {
  const layout = fakeLayout({ rowPx: ROW_PX, viewportPx: 640 });
  const markRead = vi.spyOn(engine, 'markRead').mockResolvedValue();
  await openLongRoom(100);
  // Message 101's row starts at 100 rows down; the room is 8 px above it.
  expect(layout.scrollTop).toBe(100 * ROW_PX - 8);
  // Read up to what is on screen there (messages 100 to 110), never the newest shown first.
  expect(markRead).toHaveBeenCalledWith('lobby', 110);
  expect(markRead).not.toHaveBeenCalledWith('lobby', 600);
});

it('stays at an unread line among the newest rows when the virtualiser takes them over', async () => {
  const layout = fakeLayout({ rowPx: ROW_PX, viewportPx: 640 });
  vi.spyOn(engine, 'markRead').mockResolvedValue();
  await openLongRoom(580);
  expect(layout.scrollTop).toBe(580 * ROW_PX - 8);
});
