// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { PrivateRoomControls } from '../../src/ui/components/PrivateRoomControls.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

const ROOM = 'p-7f3a';
const INVITE = 'secret-invite';

let engine: Engine;
// A real engine over fake-indexeddb; copying a link needs no server.
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('invite-link'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** What `navigator.clipboard` is in this test: absent (an insecure context) or a fake. */
function useClipboard(clipboard: Pick<Clipboard, 'writeText'> | undefined): void {
  vi.spyOn(navigator, 'clipboard', 'get').mockReturnValue(clipboard as Clipboard);
}

function renderInvitePanel() {
  return render(
    <EngineProvider engine={engine}>
      <PrivateRoomControls room={ROOM} invite={INVITE} />
    </EngineProvider>,
  );
}

function inviteField(): HTMLInputElement {
  return screen.getByTestId('invite-link') as HTMLInputElement;
}

describe('the invite link of a private room', () => {
  it('is shown in a read-only field that selects the whole link on focus', () => {
    renderInvitePanel();
    const field = inviteField();
    expect(field.readOnly).toBe(true);
    expect(field.value).toBe(
      `${window.location.origin}${window.location.pathname}#/room/${ROOM}/invite/${INVITE}`,
    );
    fireEvent.focus(field);
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, field.value.length]);
  });

  it('says the copy failed, and never that it was copied, when the page has no clipboard', async () => {
    useClipboard(undefined);
    renderInvitePanel();
    fireEvent.click(screen.getByTestId('copy-invite'));
    const said = await screen.findByTestId('copy-invite-result');
    expect(said.getAttribute('data-copied')).toBe('false');
    expect(said.textContent).toMatch(/could not copy/i);
    expect(document.body.textContent).not.toMatch(/copied/i);
  });

  it('says the copy failed when the browser refuses to write to the clipboard', async () => {
    useClipboard({
      writeText: () =>
        Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')),
    });
    renderInvitePanel();
    fireEvent.click(screen.getByTestId('copy-invite'));
    const said = await screen.findByTestId('copy-invite-result');
    expect(said.getAttribute('data-copied')).toBe('false');
  });

  it('says the link was copied once the clipboard holds it', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    useClipboard({ writeText });
    renderInvitePanel();
    fireEvent.click(screen.getByTestId('copy-invite'));
    const said = await screen.findByTestId('copy-invite-result');
    expect(said.getAttribute('data-copied')).toBe('true');
    expect(said.textContent).toBe('Invite link copied');
    expect(writeText).toHaveBeenCalledExactlyOnceWith(inviteField().value);
  });
});
