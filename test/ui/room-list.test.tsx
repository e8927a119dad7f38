// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';
import { Engine, type RoomSummary } from '../../src/client/engine.ts';
import { App } from '../../src/ui/App.tsx';
import { RoomList } from '../../src/ui/components/RoomList.tsx';
import { ComposerActivity } from '../../src/ui/composer-activity.ts';
import { ComposerProvider } from '../../src/ui/hooks/useComposer.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
let profile: string;

/** A real engine over fake-indexeddb that never connects: the list is the device's. */
beforeEach(async () => {
  profile = deviceName('room-list');
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: profile,
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
  await engine.setIdentity('Ada');
  window.location.hash = '#/room/lobby';
});
afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await engine.destroy();
});

function providers(children: ReactNode): ReactNode {
  return (
    <EngineProvider engine={engine}>
      <ComposerProvider
        drafts={new DraftStore(memoryDraftStorage(), profile)}
        activity={new ComposerActivity()}
      >
        {children}
      </ComposerProvider>
    </EngineProvider>
  );
}

/** Makes the screen a phone's (narrow) or a desktop's for `useWideScreen`. */
function screenIs(kind: 'phone' | 'desktop'): void {
  vi.spyOn(window, 'matchMedia').mockImplementation(
    (query) =>
      ({
        matches: kind === 'desktop',
        media: query,
        addEventListener: () => undefined,
        removeEventListener: () => undefined,
      }) as unknown as MediaQueryList,
  );
}

const links = () => screen.getAllByTestId('room-link');

describe('the room list', () => {
  it('shows each room with its name, newest message and unread count', () => {
    const rooms: RoomSummary[] = [
      {
        room: 'oslo',
        name: 'oslo',
        unread: 3,
        last: { author: 'Grace', body: 'train at 9', deleted: false, status: 'sent' },
        activeAt: 2,
      },
      { room: 'x1', name: 'Birthday plans', unread: 150, last: null, activeAt: 1 },
    ];
    vi.spyOn(engine, 'rooms').mockReturnValue(rooms);
    render(providers(<RoomList current="oslo" />));
    const [oslo, birthday] = links();
    expect(oslo?.getAttribute('data-room')).toBe('oslo');
    expect(oslo?.getAttribute('data-unread')).toBe('3');
    expect(oslo?.getAttribute('aria-current')).toBe('page');
    expect(oslo?.textContent).toContain('Grace: train at 9');
    expect(birthday?.getAttribute('href')).toBe('#/room/x1');
    expect(birthday?.textContent).toContain('Birthday plans');
    expect(birthday?.textContent).toContain('99+');
  });

  it('says there are no rooms only once the device has been read', () => {
    vi.spyOn(engine, 'rooms').mockReturnValue([]);
    const loaded = vi.spyOn(engine, 'roomsLoaded').mockReturnValue(false);
    const view = render(providers(<RoomList current={null} />));
    expect(screen.queryByText(/no rooms yet/i)).toBeNull();
    loaded.mockReturnValue(true);
    view.rerender(providers(<RoomList current={null} />));
    expect(screen.getByText(/no rooms yet/i)).toBeTruthy();
  });

  it('starts a public room by name offline, lists it and goes to it', async () => {
    render(providers(<RoomList current={null} />));
    const form = screen.getByTestId('room-create');
    fireEvent.change(within(form).getByTestId('room-create-name'), {
      target: { value: 'Trip to Oslo' },
    });
    fireEvent.click(within(form).getByTestId('room-create-submit'));
    await waitFor(() => expect(window.location.hash).toBe('#/room/trip-to-oslo'));
    await waitFor(() =>
      expect(links().map((link) => link.getAttribute('data-room'))).toContain('trip-to-oslo'),
    );
  });

  it('says why a private room cannot be started offline', async () => {
    render(providers(<RoomList current={null} />));
    const form = screen.getByTestId('room-create');
    fireEvent.change(within(form).getByTestId('room-create-name'), { target: { value: 'Secret' } });
    fireEvent.click(within(form).getByTestId('room-create-private'));
    fireEvent.click(within(form).getByTestId('room-create-submit'));
    expect((await within(form).findByRole('alert')).textContent).toMatch(/connect/i);
    expect(window.location.hash).toBe('#/room/lobby');
  });
});

describe('the layout', () => {
  it('shows the list beside the room on a desktop', async () => {
    screenIs('desktop');
    render(providers(<App />));
    expect(await screen.findByTestId('room-list')).toBeTruthy();
    expect(screen.getByTestId('composer-input')).toBeTruthy();
    expect(screen.queryByTestId('rooms-back')).toBeNull();
  });

  it('shows a phone one screen at a time: the room with a way back, or the list', async () => {
    screenIs('phone');
    render(providers(<App />));
    expect(await screen.findByTestId('composer-input')).toBeTruthy();
    expect(screen.queryByTestId('room-list')).toBeNull();
    fireEvent.click(screen.getByTestId('rooms-back'));
    await waitFor(() => expect(screen.getByTestId('room-list')).toBeTruthy());
    expect(screen.queryByTestId('composer-input')).toBeNull();
    // The list screen says how the link is, as every screen does.
    expect(screen.getByTestId('connection-status').getAttribute('data-state')).toBe('offline');
  });

  it('leaves a room after asking, and shows the list without it', async () => {
    screenIs('desktop');
    await engine.openRoom('lobby');
    await engine.openRoom('oslo');
    window.location.hash = '#/room/oslo';
    render(providers(<App />));
    await waitFor(() => expect(links()).toHaveLength(2));
    fireEvent.click(screen.getByTestId('room-leave'));
    fireEvent.click(screen.getByTestId('confirm-leave'));
    await waitFor(() => expect(window.location.hash).toBe('#/rooms'));
    await waitFor(() =>
      expect(links().map((link) => link.getAttribute('data-room'))).toEqual(['lobby']),
    );
  });
});
