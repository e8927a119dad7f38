// @vitest-environment happy-dom
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import type { SentMessage } from '../../src/client/types.ts';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';
import { roomSnapshot } from './fixtures.ts';

function room(count: number): RoomSnapshot {
  const messages = Array.from(
    { length: count },
    (_, i): SentMessage => ({
      id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
      room: 'lobby',
      authorId: 'u-grace',
      author: 'Grace',
      body: `message ${i}`,
      status: 'sent',
      seq: i + 1,
      ts: 1_000 + i,
    }),
  );
  return roomSnapshot({ messages });
}

describe('a long room', () => {
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
  });

  async function renderRoom(count: number) {
    const engine = await Engine.create({
      url: 'http://127.0.0.1:9',
      dbName: deviceName('long-room'),
      connectivity: { isOnline: () => false, subscribe: () => () => {} },
    });
    render(
      <EngineProvider engine={engine}>
        <MessageList snapshot={room(count)} me="u-ada" />
      </EngineProvider>,
    );
    return engine;
  }

  it('puts every message of a room of 500 in the DOM', async () => {
    const engine = await renderRoom(500);
    expect(screen.getAllByTestId('message')).toHaveLength(500);
    await engine.destroy();
  });

  it('shows the newest rows at once, then renders a room past 500 through the virtualiser, loaded on demand: a window of rows, not all of them', async () => {
    // happy-dom lays nothing out: the scroller gets a phone's viewport, each row a line's height.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(640);
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(360);
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(64);
    const engine = await renderRoom(2_000);
    expect(screen.getByText('message 1999')).toBeTruthy();
    await waitFor(() => expect(document.querySelector('.message-list-virtual')).not.toBeNull());
    const rows = screen.getAllByTestId('message').length;
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(100);
    await engine.destroy();
  });
});
