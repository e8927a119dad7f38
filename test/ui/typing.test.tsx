// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';
import { Engine } from '../../src/client/engine.ts';
import { App } from '../../src/ui/App.tsx';
import { Composer } from '../../src/ui/components/Composer.tsx';
import { TypingIndicator } from '../../src/ui/components/TypingIndicator.tsx';
import { ComposerActivity } from '../../src/ui/composer-activity.ts';
import { ComposerProvider } from '../../src/ui/hooks/useComposer.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { typingText } from '../../src/ui/typing-text.ts';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
let profile: string;
let storage: ReturnType<typeof memoryDraftStorage>;

/** A real engine over fake-indexeddb that never connects: `typing` reaches no one. */
async function offlineEngine(name: string): Promise<Engine> {
  profile = deviceName('typing');
  const created = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: profile,
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
  await created.setIdentity(name);
  return created;
}

/**
 * Makes the engine say `typists` are typing in a room, as the server would have told it:
 * `set(room, names)` changes who, and tells the subscribers as the engine does.
 */
function fakeTypists(target: Engine) {
  const typists = new Map<string, readonly string[]>();
  const listeners = new Set<() => void>();
  const nobody: readonly string[] = [];
  vi.spyOn(target, 'typingIn').mockImplementation((room) => typists.get(room) ?? nobody);
  vi.spyOn(target, 'subscribe').mockImplementation((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  });
  return {
    set(room: string, names: readonly string[]): void {
      act(() => {
        typists.set(room, names);
        for (const listener of listeners) listener();
      });
    },
  };
}

function providers(children: ReactNode): ReactNode {
  return (
    <EngineProvider engine={engine}>
      <ComposerProvider drafts={new DraftStore(storage, profile)} activity={new ComposerActivity()}>
        {children}
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

beforeEach(async () => {
  storage = memoryDraftStorage();
  window.location.hash = '#/room/lobby';
  engine = await offlineEngine('Ada');
});
afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await engine.destroy();
});

describe('the words of the typing line', () => {
  it.each([
    [[], ''],
    [['Ada'], 'Ada is typing…'],
    [['Ada', 'Grace'], 'Ada and Grace are typing…'],
    [['Ada', 'Grace', 'Lin'], 'Ada, Grace and Lin are typing…'],
    [['Ada', 'Grace', 'Lin', 'Alan'], 'Ada, Grace and 2 others are typing…'],
    [['Ada', 'Grace', 'Lin', 'Alan', 'Edsger'], 'Ada, Grace and 3 others are typing…'],
  ])('%j → "%s"', (names, text) => {
    expect(typingText(names)).toBe(text);
  });
});

describe('the typing indicator', () => {
  it('is absent while nobody types, and says who does once someone does', () => {
    const board = fakeTypists(engine);
    render(providers(<TypingIndicator room="lobby" />));
    expect(screen.queryByTestId('typing')).toBeNull();

    board.set('lobby', ['Grace']);
    expect(screen.getByTestId('typing').textContent).toBe('Grace is typing…');
    board.set('lobby', ['Grace', 'Lin']);
    expect(screen.getByTestId('typing').textContent).toBe('Grace and Lin are typing…');
    board.set('lobby', ['Grace', 'Lin', 'Alan', 'Edsger']);
    expect(screen.getByTestId('typing').textContent).toBe('Grace, Lin and 2 others are typing…');

    board.set('lobby', []);
    expect(screen.queryByTestId('typing')).toBeNull();
  });

  it('speaks politely: a status region that is there before the words come', () => {
    const board = fakeTypists(engine);
    render(providers(<TypingIndicator room="lobby" />));
    const region = screen.getByRole('status');
    expect(region.getAttribute('aria-live')).toBe('polite');
    expect(region.textContent).toBe('');
    board.set('lobby', ['Grace']);
    expect(screen.getByRole('status')).toBe(region);
    expect(region.contains(screen.getByTestId('typing'))).toBe(true);
  });

  it('shows only who types in its own room', () => {
    const board = fakeTypists(engine);
    render(providers(<TypingIndicator room="lobby" />));
    board.set('kitchen', ['Grace']);
    expect(screen.queryByTestId('typing')).toBeNull();
  });

  it('sits in the room just above the composer', async () => {
    const board = fakeTypists(engine);
    render(providers(<App />));
    await screen.findByTestId('composer-input');
    board.set('lobby', ['Grace']);
    const typing = screen.getByTestId('typing');
    const form = composer().closest('form');
    expect(typing.textContent).toBe('Grace is typing…');
    expect(typing.parentElement?.nextElementSibling).toBe(form);
  });
});

describe('the composer', () => {
  it('tells the engine the user types, on every change with text', async () => {
    const typing = vi.spyOn(engine, 'typing');
    render(providers(<App />));
    await screen.findByTestId('composer-input');
    expect(typing).not.toHaveBeenCalled();
    type('h');
    type('he');
    expect(typing).toHaveBeenCalledTimes(2);
    expect(typing).toHaveBeenLastCalledWith('lobby');
  });

  it('does not when the text becomes empty (or only spaces)', async () => {
    const typing = vi.spyOn(engine, 'typing');
    render(providers(<App />));
    await screen.findByTestId('composer-input');
    type('oops');
    expect(typing).toHaveBeenCalledTimes(1);
    type('');
    type('   ');
    expect(typing).toHaveBeenCalledTimes(1);
  });

  it('does not when a stored draft comes back, nor when a sent message clears the box', async () => {
    new DraftStore(storage, profile).write('lobby', 'written before the reload');
    const typing = vi.spyOn(engine, 'typing');
    render(providers(<App />));
    await waitFor(() => expect(composer().value).toBe('written before the reload'));
    fireEvent.keyDown(composer(), { key: 'Enter' });
    await waitFor(() => expect(composer().value).toBe(''));
    expect(typing).not.toHaveBeenCalled();
  });

  it('tells the engine in edit mode too', () => {
    const typing = vi.spyOn(engine, 'typing');
    render(
      providers(
        <Composer room="kitchen" editing={{ room: 'kitchen', id: 'm-1', body: 'first take' }} />,
      ),
    );
    expect(composer().value).toBe('first take');
    type('second take');
    expect(typing).toHaveBeenCalledExactlyOnceWith('kitchen');
  });
});
