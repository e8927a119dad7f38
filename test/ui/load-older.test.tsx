// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import { RequestTimeoutError } from '../../src/client/request-tracker.ts';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';
import { roomSnapshot } from './fixtures.ts';

let engine: Engine;
// A real engine over fake-indexeddb with no network: nothing older can come from a server.
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('load-older'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** A room that has older history on the server than on this device. */
const withOlder: RoomSnapshot = roomSnapshot({ hasOlder: true });

function renderList() {
  render(
    <EngineProvider engine={engine}>
      <MessageList snapshot={withOlder} me={null} />
    </EngineProvider>,
  );
}

const loadButton = () => screen.getByTestId('load-older');

describe('"Load earlier messages"', () => {
  it('says it could not load them while offline, and can be pressed again', async () => {
    renderList();
    fireEvent.click(loadButton());
    await vi.waitFor(() => expect(loadButton().getAttribute('data-state')).toBe('failed'));
    expect(loadButton().textContent).toMatch(/couldn.t load earlier messages.*try again/i);
    expect((loadButton() as HTMLButtonElement).disabled).toBe(false);
  });

  it('says it could not load them when the server does not answer in time, with nothing left unhandled', async () => {
    vi.spyOn(engine, 'loadOlder').mockRejectedValueOnce(
      new RequestTimeoutError('no answer within 10000 ms'),
    );
    renderList();
    fireEvent.click(loadButton());
    await vi.waitFor(() => expect(loadButton().getAttribute('data-state')).toBe('failed'));
    expect((loadButton() as HTMLButtonElement).disabled).toBe(false);
  });

  it('goes back to its usual label once a retry loads them', async () => {
    const loadOlder = vi
      .spyOn(engine, 'loadOlder')
      .mockRejectedValueOnce(new RequestTimeoutError('no answer within 10000 ms'))
      .mockResolvedValueOnce(true);
    renderList();
    fireEvent.click(loadButton());
    await vi.waitFor(() => expect(loadButton().getAttribute('data-state')).toBe('failed'));
    fireEvent.click(loadButton());
    await vi.waitFor(() => expect(loadButton().getAttribute('data-state')).toBe('idle'));
    expect(loadButton().textContent).toBe('Load earlier messages');
    expect(loadOlder).toHaveBeenCalledTimes(2);
  });
});
