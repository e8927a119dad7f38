// @vitest-environment happy-dom
// Scrolling up through a room's history: older pages load as the reader nears the top, and
// the row the reader is looking at stays where it was when they are prepended, in the plain
// list and in the virtualised one. Layout is faked (see fake-layout.ts).
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { RETRY_NEAR_TOP_AFTER_MS } from '../../src/ui/hooks/useLoadOlder.ts';
import { deviceName } from '../support/engine.ts';
import { fakeLayout } from './fake-layout.ts';
import { messageId, roomSnapshot, sentMessage } from './fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('list-scrolling'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** Grace's messages `from`..`to`, all read: the room opens at the bottom. */
function history(from: number, to: number, hasOlder = false): RoomSnapshot {
  const messages: LocalMessage[] = Array.from({ length: to - from + 1 }, (_, i) =>
    sentMessage(from + i, 'u-grace'),
  );
  return roomSnapshot({
    messages,
    hasOlder,
    receipts: { read: to, othersDelivered: 0, othersRead: 0 },
  });
}

function renderList(snapshot: RoomSnapshot) {
  vi.spyOn(engine, 'markRead').mockResolvedValue();
  const showLatest = vi.spyOn(engine, 'showLatest').mockImplementation(() => {});
  const holdWindow = vi.spyOn(engine, 'holdWindow').mockImplementation(() => {});
  const page = (current: RoomSnapshot) => (
    <EngineProvider engine={engine}>
      <MessageList snapshot={current} me="u-ada" />
    </EngineProvider>
  );
  const view = render(page(snapshot));
  return {
    showLatest,
    holdWindow,
    rerender: (next: RoomSnapshot) => view.rerender(page(next)),
    unmount: () => view.unmount(),
  };
}

/** Where message `seq`'s element is on screen (its top, in px below the viewport's top). */
function shownAt(seq: number): number | undefined {
  const element = document.querySelector(`[data-testid=message][data-id="${messageId(seq)}"]`);
  return element?.getBoundingClientRect().top;
}

const nextFrames = () => act(() => new Promise((resolve) => setTimeout(resolve, 50)));

describe('older messages prepended', () => {
  it('leave the row at the top of the viewport where it was (plain rows)', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const { rerender } = renderList(history(11, 20));
    layout.scrollTo(650); // message 17 at the top, half of it above the viewport
    expect(shownAt(17)).toBe(-50);
    rerender(history(1, 20));
    expect(shownAt(17)).toBe(-50);
    expect(layout.scrollTop).toBe(1650);
  });

  it('leave the row at the top of the viewport where it was (virtualised rows)', async () => {
    // Rows of the virtualiser's estimate: what is prepended is placed as it will measure.
    const layout = fakeLayout({ rowPx: 64, viewportPx: 640 });
    const { rerender } = renderList(history(1001, 1600));
    await waitFor(() => expect(document.querySelector('.message-list-virtual')).not.toBeNull());
    await nextFrames();
    layout.scrollTo(64 * 100 + 20); // message 1101 at the top, 20 px of it above
    await waitFor(() => expect(shownAt(1101)).toBe(-20));
    rerender(history(901, 1600)); // 100 older rows
    await nextFrames();
    expect(shownAt(1101)).toBe(-20);
    expect(layout.scrollTop).toBe(64 * 200 + 20);
  });

  it('leave the row at the top of the viewport where it was as the list turns virtual', async () => {
    const layout = fakeLayout({ rowPx: 64, viewportPx: 640 });
    const { rerender } = renderList(history(1201, 1600)); // 400 plain rows
    layout.scrollTo(64 * 10 + 20); // message 1211 at the top, 20 px of it above
    expect(shownAt(1211)).toBe(-20);
    await nextFrames(); // the virtualiser is fetched ahead of need meanwhile
    rerender(history(1001, 1600)); // 600 rows: past the plain list's limit
    expect(document.querySelector('.message-list-virtual')).not.toBeNull();
    await nextFrames();
    expect(layout.scrollTop).toBe(64 * 210 + 20);
    expect(shownAt(1211)).toBe(-20);
  });
});

describe('paging older messages in while scrolling up', () => {
  it('asks for the next page once the reader is within a screen of the top, one at a time', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    let finish: (loaded: boolean) => void = () => {};
    const loadOlder = vi
      .spyOn(engine, 'loadOlder')
      .mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    renderList(history(11, 20, true));
    await nextFrames();
    layout.scrollTo(400);
    await nextFrames();
    expect(loadOlder).not.toHaveBeenCalled();
    layout.scrollTo(200);
    await waitFor(() => expect(loadOlder).toHaveBeenCalledTimes(1));
    layout.scrollTo(100);
    await nextFrames();
    expect(loadOlder).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('load-older').getAttribute('data-state')).toBe('loading');
    await act(async () => finish(true));
    layout.scrollTo(50);
    await waitFor(() => expect(loadOlder).toHaveBeenCalledTimes(2));
  });

  it('does not ask while the room catches up: a first visit is short until its history lands', async () => {
    fakeLayout({ rowPx: 100, viewportPx: 250 });
    const loadOlder = vi.spyOn(engine, 'loadOlder').mockResolvedValue(true);
    const catchingUp = { ...history(1, 1, true), catchingUp: 200 };
    const { rerender } = renderList(catchingUp);
    await nextFrames();
    expect(loadOlder).not.toHaveBeenCalled();
    // Caught up, and still within a screen of the top: now it is older history to fill it.
    rerender({ ...catchingUp, catchingUp: null });
    await waitFor(() => expect(loadOlder).toHaveBeenCalledTimes(1));
  });

  it('does not ask again after a failure until the user scrolls again, a moment later', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const loadOlder = vi.spyOn(engine, 'loadOlder').mockResolvedValue(false);
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    renderList(history(11, 20, true));
    layout.scrollTo(100);
    await waitFor(() =>
      expect(screen.getByTestId('load-older').getAttribute('data-state')).toBe('failed'),
    );
    layout.scrollTo(90);
    await nextFrames();
    expect(loadOlder).toHaveBeenCalledTimes(1);
    now += RETRY_NEAR_TOP_AFTER_MS;
    layout.scrollTo(80);
    await waitFor(() => expect(loadOlder).toHaveBeenCalledTimes(2));
  });
});

describe('away from the bottom', () => {
  it('gives the view back its window when the room is left while scrolled up', () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const { showLatest, unmount } = renderList(history(1, 10));
    layout.scrollTo(200);
    expect(showLatest).not.toHaveBeenCalled();
    unmount();
    expect(showLatest).toHaveBeenCalledWith('lobby');
  });

  it('asks the engine to keep the rows above the reader while they read older messages', () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const { holdWindow } = renderList(history(1, 10));
    expect(holdWindow).not.toHaveBeenCalled();
    layout.scrollTo(200);
    expect(holdWindow).toHaveBeenCalledWith('lobby');
  });
});

describe('back at the bottom', () => {
  it('asks the engine to show the latest window again', async () => {
    const layout = fakeLayout({ rowPx: 100, viewportPx: 250 });
    const { showLatest } = renderList(history(1, 10));
    layout.scrollTo(0);
    expect(showLatest).not.toHaveBeenCalled();
    layout.scrollTo(layout.maxScrollTop);
    expect(showLatest).toHaveBeenCalledWith('lobby');
  });
});
