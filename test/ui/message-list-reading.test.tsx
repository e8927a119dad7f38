// @vitest-environment happy-dom
// The message list as a reader meets it: receipts on own messages, what gets marked read,
// the unread line and the jump-to-latest button. Layout is faked (see fake-layout.ts).
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';
import { fakeLayout } from './fake-layout.ts';
import { messageId, pendingMessage, roomSnapshot, sentMessage } from './fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('list-reading'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** Messages `from`..`to` of one author. */
function run(from: number, to: number, authorId: string): LocalMessage[] {
  return Array.from({ length: to - from + 1 }, (_, i) => sentMessage(from + i, authorId));
}

function renderList(snapshot: RoomSnapshot, me = 'u-ada') {
  const markRead = vi.spyOn(engine, 'markRead').mockResolvedValue();
  const showLatest = vi.spyOn(engine, 'showLatest').mockImplementation(() => {});
  const page = (current: RoomSnapshot) => (
    <EngineProvider engine={engine}>
      <MessageList snapshot={current} me={me} />
    </EngineProvider>
  );
  const view = render(page(snapshot));
  return { markRead, showLatest, rerender: (next: RoomSnapshot) => view.rerender(page(next)) };
}

const rows = () => screen.getAllByTestId('message');
const rowOf = (seq: number) => {
  const row = rows().find((candidate) => candidate.dataset.id === messageId(seq));
  if (!row) throw new Error(`no row for message ${seq}`);
  return row;
};
/** The message the unread line sits above. */
const dividedMessage = () =>
  screen
    .getByTestId('unread-divider')
    .closest('.message-row')
    ?.querySelector<HTMLElement>('[data-testid=message]')?.dataset.id;
/** Lets the list take its look at the screen (once per animation frame). */
const nextFrames = () => act(() => new Promise((resolve) => setTimeout(resolve, 50)));

describe('receipts', () => {
  const snapshot = roomSnapshot({
    messages: [...run(1, 3, 'u-ada'), sentMessage(4, 'u-grace'), pendingMessage(5, 'u-ada')],
    receipts: { read: 4, othersDelivered: 2, othersRead: 1 },
  });

  it('marks own sent messages read, delivered or sent by how far the other members have got', () => {
    renderList(snapshot);
    expect(
      rows()
        .slice(0, 3)
        .map((row) => row.dataset.receipt),
    ).toEqual(['read', 'delivered', 'sent']);
  });

  it('puts no receipt on another member’s message, nor on one still pending', () => {
    renderList(snapshot);
    expect(rowOf(4).hasAttribute('data-receipt')).toBe(false);
    expect(rowOf(5).hasAttribute('data-receipt')).toBe(false);
    expect(rowOf(5).dataset.status).toBe('pending');
  });

  it('says the receipt in words for screen readers', () => {
    renderList(snapshot);
    const words = [1, 2, 3].map(
      (seq) => rowOf(seq).querySelector('.message-receipt-label')?.textContent,
    );
    expect(words).toEqual(['Read', 'Delivered', 'Sent']);
  });
});

describe('marking read', () => {
  // Rows of 100 px in a viewport of 250: three rows show, partly or whole.
  const layout = () => fakeLayout({ rowPx: 100, viewportPx: 250 });
  const tenFromGrace = (read: number) =>
    roomSnapshot({ messages: run(1, 10, 'u-grace'), receipts: { ...NO_RECEIPTS, read } });

  it('marks read up to the newest message at least partly on screen, and never back', async () => {
    const screenLayout = layout();
    const { markRead } = renderList(tenFromGrace(2));
    // Opened at the unread line above message 3 (8 px down): messages 2 (its last 8 px) to 5.
    await waitFor(() => expect(markRead).toHaveBeenLastCalledWith('lobby', 5));
    screenLayout.scrollTo(400); // messages 5 to 7
    await waitFor(() => expect(markRead).toHaveBeenLastCalledWith('lobby', 7));
    const calls = markRead.mock.calls.length;
    screenLayout.scrollTo(0);
    await nextFrames();
    expect(markRead).toHaveBeenCalledTimes(calls);
  });

  it('marks nothing while the page is hidden, and what is on screen once it shows again', async () => {
    layout();
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    const { markRead } = renderList(tenFromGrace(8));
    await nextFrames();
    expect(markRead).not.toHaveBeenCalled();
    visibility.mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(markRead).toHaveBeenCalledWith('lobby', 10));
  });

  it('marks nothing in a room not yet read from the device', async () => {
    layout();
    const { markRead } = renderList({ ...tenFromGrace(0), loaded: false });
    await nextFrames();
    expect(markRead).not.toHaveBeenCalled();
  });
});

describe('the unread line', () => {
  it('sits above the first message another member sent past the read cursor, own ones aside', () => {
    renderList(
      roomSnapshot({
        messages: [sentMessage(1, 'u-grace'), ...run(2, 3, 'u-ada'), ...run(4, 5, 'u-grace')],
        receipts: { ...NO_RECEIPTS, read: 1 },
      }),
    );
    expect(screen.getAllByTestId('unread-divider')).toHaveLength(1);
    expect(dividedMessage()).toBe(messageId(4));
    expect(screen.getByTestId('unread-divider').textContent).toBe('2 new messages');
    // Outside the message's element: its text stays the message's.
    expect(rowOf(4).textContent).not.toContain('new message');
  });

  it('is not there when everything is read', () => {
    renderList(
      roomSnapshot({ messages: run(1, 5, 'u-grace'), receipts: { ...NO_RECEIPTS, read: 5 } }),
    );
    expect(screen.queryByTestId('unread-divider')).toBeNull();
  });

  it('is not there when only own messages are past the read cursor', () => {
    renderList(
      roomSnapshot({
        messages: [sentMessage(1, 'u-grace'), ...run(2, 3, 'u-ada')],
        receipts: { ...NO_RECEIPTS, read: 1 },
      }),
    );
    expect(screen.queryByTestId('unread-divider')).toBeNull();
  });

  it('stays where it was while the read cursor moves on', () => {
    const snapshot = roomSnapshot({
      messages: run(1, 5, 'u-grace'),
      receipts: { ...NO_RECEIPTS, read: 2 },
    });
    const { rerender } = renderList(snapshot);
    rerender({ ...snapshot, receipts: { ...NO_RECEIPTS, read: 5 } });
    expect(dividedMessage()).toBe(messageId(3));
  });

  it('opens the room scrolled to the line, near the top', () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    renderList(
      roomSnapshot({ messages: run(1, 10, 'u-grace'), receipts: { ...NO_RECEIPTS, read: 2 } }),
    );
    // Message 3's row starts at 200 px; the room opens 8 px above it, not at the bottom (750).
    expect(layout.scrollTop).toBe(192);
  });

  it('opens the room at the bottom when nothing is unread', () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    renderList(
      roomSnapshot({ messages: run(1, 10, 'u-grace'), receipts: { ...NO_RECEIPTS, read: 10 } }),
    );
    expect(layout.scrollTop).toBe(750);
  });

  it('goes above a message that arrives while the reader is scrolled up, and none while they watch', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const snapshot = roomSnapshot({
      messages: run(1, 10, 'u-grace'),
      receipts: { ...NO_RECEIPTS, read: 10 },
    });
    const { rerender } = renderList(snapshot);
    await nextFrames();
    // Watched arriving at the bottom: no line.
    const watched = { ...snapshot, messages: run(1, 11, 'u-grace') };
    rerender(watched);
    await nextFrames();
    expect(screen.queryByTestId('unread-divider')).toBeNull();
    // Arriving below while the reader is up in the history: the line goes above it.
    layout.scrollTo(0);
    await nextFrames();
    rerender({ ...watched, messages: run(1, 12, 'u-grace') });
    await waitFor(() => expect(dividedMessage()).toBe(messageId(12)));
  });

  it('counts what the join says was read on another device, on a device new to the room', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    // Opened empty (first visit): nothing read here yet.
    const empty = roomSnapshot({ messages: [], receipts: NO_RECEIPTS });
    const { rerender } = renderList(empty);
    await nextFrames();
    // The join: read up to 8 elsewhere; then the history, scrolled up from the bottom.
    rerender({ ...empty, messages: run(1, 10, 'u-grace'), receipts: { ...NO_RECEIPTS, read: 8 } });
    layout.scrollTo(0);
    await nextFrames();
    await waitFor(() => expect(dividedMessage()).toBe(messageId(9)));
  });
});

describe('jump to latest', () => {
  const layout = () => fakeLayout({ rowPx: 100, viewportPx: 250 });
  const allRead = (messages: LocalMessage[]) =>
    roomSnapshot({ messages, receipts: { ...NO_RECEIPTS, read: 10 } });

  it('is hidden at the bottom', async () => {
    layout();
    renderList(allRead(run(1, 10, 'u-grace')));
    await nextFrames();
    expect(screen.queryByTestId('jump-latest')).toBeNull();
  });

  it('shows, once scrolled up, how many unread messages from others are below the viewport', async () => {
    const screenLayout = layout();
    const messages = [...run(1, 5, 'u-grace'), ...run(6, 7, 'u-ada'), ...run(8, 10, 'u-grace')];
    renderList(roomSnapshot({ messages, receipts: { ...NO_RECEIPTS, read: 4 } }));
    screenLayout.scrollTo(0); // messages 1 to 3 show; 5, 8, 9 and 10 are below and unread
    const jump = await screen.findByTestId('jump-latest');
    await waitFor(() => expect(jump.textContent).toBe('4 new'));
    expect(jump.getAttribute('aria-label')).toBe('Jump to latest, 4 new messages');
  });

  it('says only "Jump to latest" when what is below was read already', async () => {
    const screenLayout = layout();
    renderList(allRead(run(1, 10, 'u-grace')));
    screenLayout.scrollTo(0);
    const jump = await screen.findByTestId('jump-latest');
    await nextFrames();
    expect(jump.getAttribute('aria-label')).toBe('Jump to latest');
    expect(jump.textContent).toBe('');
  });

  it('says only "Jump to latest" when what is below is the user’s own', async () => {
    const screenLayout = layout();
    renderList(allRead(run(1, 10, 'u-ada')));
    screenLayout.scrollTo(0);
    const jump = await screen.findByTestId('jump-latest');
    expect(jump.getAttribute('aria-label')).toBe('Jump to latest');
    expect(jump.textContent).toBe('');
  });

  it('scrolls to the bottom when pressed, shows the latest window and follows new messages again', async () => {
    const screenLayout = layout();
    const snapshot = allRead(run(1, 10, 'u-grace'));
    const { showLatest, rerender } = renderList(snapshot);
    screenLayout.scrollTo(0);
    fireEvent.click(await screen.findByTestId('jump-latest'));
    expect(screenLayout.scrollTop).toBe(750);
    expect(showLatest).toHaveBeenCalledWith('lobby');
    await waitFor(() => expect(screen.queryByTestId('jump-latest')).toBeNull());
    rerender({ ...snapshot, messages: run(1, 11, 'u-grace') });
    expect(screenLayout.scrollTop).toBe(850);
  });
});

const NO_RECEIPTS = { read: 0, othersDelivered: 0, othersRead: 0 };
