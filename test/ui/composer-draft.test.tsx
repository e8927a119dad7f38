// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';
import { Engine } from '../../src/client/engine.ts';
import { App } from '../../src/ui/App.tsx';
import { ComposerActivity } from '../../src/ui/composer-activity.ts';
import { ComposerProvider } from '../../src/ui/hooks/useComposer.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
let profile: string;
let storage: ReturnType<typeof memoryDraftStorage>;

/** A real engine over fake-indexeddb; no server answers, so the outbox keeps what is sent. */
async function offlineEngine(name: string | null): Promise<Engine> {
  profile = deviceName('draft');
  const created = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: profile,
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
  if (name) await created.setIdentity(name);
  return created;
}

/** The app as main.tsx mounts it, over `storage` (a page load reads the drafts it left). */
function page(): ReactNode {
  return (
    <EngineProvider engine={engine}>
      <ComposerProvider drafts={new DraftStore(storage, profile)} activity={new ComposerActivity()}>
        <App />
      </ComposerProvider>
    </EngineProvider>
  );
}

function composer(): HTMLTextAreaElement {
  return screen.getByTestId('composer-input') as HTMLTextAreaElement;
}

function type(text: string): void {
  fireEvent.change(composer(), { target: { value: text } });
}

async function goToRoom(room: string): Promise<void> {
  await act(async () => {
    window.location.hash = `#/room/${room}`;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  await waitFor(() => expect(composer().placeholder).toBe(`Message #${room}`));
}

beforeEach(() => {
  storage = memoryDraftStorage();
  window.location.hash = '#/room/lobby';
});
afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await engine.destroy();
});

describe('the composer’s draft', () => {
  it('is still there after switching to another room and back', async () => {
    engine = await offlineEngine('Ada');
    render(page());
    type('half a thought about lunch');
    await goToRoom('kitchen');
    expect(composer().value).toBe('');
    await goToRoom('lobby');
    expect(composer().value).toBe('half a thought about lunch');
  });

  it('is still there when the app is mounted again (a reload)', async () => {
    engine = await offlineEngine('Ada');
    const first = render(page());
    type('typed before the reload');
    first.unmount();
    render(page());
    expect(composer().value).toBe('typed before the reload');
  });

  it('is cleared once the message is in the outbox', async () => {
    engine = await offlineEngine('Ada');
    const first = render(page());
    type('on its way');
    fireEvent.keyDown(composer(), { key: 'Enter' });
    await waitFor(() => expect(engine.outboxCount).toBe(1));
    await waitFor(() => expect(composer().value).toBe(''));
    first.unmount();
    render(page());
    expect(composer().value).toBe('');
  });

  it('is kept when the message could not be written to the outbox', async () => {
    engine = await offlineEngine('Ada');
    const first = render(page());
    vi.spyOn(engine, 'send').mockRejectedValueOnce(
      new DOMException('The transaction was aborted.', 'QuotaExceededError'),
    );
    type('not saved, not lost');
    fireEvent.keyDown(composer(), { key: 'Enter' });
    await screen.findByRole('alert');
    first.unmount();
    render(page());
    expect(composer().value).toBe('not saved, not lost');
  });
});

describe('the composer’s draft beside another tab of the profile', () => {
  it('comes back as this tab showed it, after another tab wrote over it and the app went away', async () => {
    engine = await offlineEngine('Ada');
    const first = render(page());
    type('a long reply, still being written');
    // Another tab types in the same room and sends: last write wins in the shared storage.
    const otherTab = new DraftStore(storage, profile);
    otherTab.write('lobby', 'ok');
    otherTab.clearSent('lobby', 'ok');
    // This tab's app is replaced (a storage loss, a reload): its composer goes.
    first.unmount();
    render(page());
    expect(composer().value).toBe('a long reply, still being written');
  });
});

describe('focus', () => {
  it('is in the composer once a name is picked', async () => {
    engine = await offlineEngine(null);
    render(page());
    fireEvent.change(screen.getByTestId('name-input'), { target: { value: 'Grace' } });
    fireEvent.click(screen.getByTestId('name-submit'));
    await screen.findByTestId('composer-input');
    await waitFor(() => expect(document.activeElement).toBe(composer()));
  });

  it('is in the composer after switching rooms', async () => {
    engine = await offlineEngine('Ada');
    render(page());
    (document.activeElement as HTMLElement | null)?.blur();
    await goToRoom('kitchen');
    await waitFor(() => expect(document.activeElement).toBe(composer()));
  });
});
