// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';
import { Engine } from '../../src/client/engine.ts';
import { Composer } from '../../src/ui/components/Composer.tsx';
import { ComposerActivity } from '../../src/ui/composer-activity.ts';
import { ComposerProvider } from '../../src/ui/hooks/useComposer.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
// A real engine over fake-indexeddb; no server answers, so what is queued stays queued.
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('quota'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
  await engine.setIdentity('Ada');
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function typeAndSend(text: string): void {
  const input = screen.getByTestId('composer-input');
  fireEvent.change(input, { target: { value: text } });
  fireEvent.keyDown(input, { key: 'Enter' });
}

describe('a full device on send', () => {
  it('says the message was not saved, keeps the draft and every message already queued', async () => {
    render(
      <EngineProvider engine={engine}>
        <ComposerProvider
          drafts={new DraftStore(memoryDraftStorage(), 'quota')}
          activity={new ComposerActivity()}
        >
          <Composer room="lobby" />
        </ComposerProvider>
      </EngineProvider>,
    );
    typeAndSend('queued before the disk filled up');
    await waitFor(() => expect(engine.outboxCount).toBe(1));

    // What IndexedDB rejects a write with when the origin's quota is used up.
    vi.spyOn(engine, 'send').mockRejectedValueOnce(
      new DOMException('The transaction was aborted.', 'QuotaExceededError'),
    );
    typeAndSend('one too many');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/no storage space left/);
    expect(alert.textContent).toMatch(/already waiting are safe/);
    expect((screen.getByTestId('composer-input') as HTMLTextAreaElement).value).toBe(
      'one too many',
    );
    expect(engine.outboxCount).toBe(1);
  });
});
