// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';
import { Engine, type RoomSnapshot } from '../../src/client/engine.ts';
import type { LocalMessage, SentMessage } from '../../src/client/types.ts';
import { App } from '../../src/ui/App.tsx';
import { MessageItem } from '../../src/ui/components/MessageItem.tsx';
import { MessageList } from '../../src/ui/components/MessageList.tsx';
import { ComposerActivity } from '../../src/ui/composer-activity.ts';
import { ComposerProvider } from '../../src/ui/hooks/useComposer.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';
import { roomSnapshot } from './fixtures.ts';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const sent: SentMessage = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a01',
  room: 'lobby',
  authorId: 'u-ada',
  author: 'Ada',
  body: 'the first version',
  status: 'sent',
  seq: 1,
  ts: 1_700_000_000_000,
};

/** One bubble on its own: no engine, only the props. */
function renderRow(message: LocalMessage, own = true) {
  const { container } = render(
    <ol>
      <MessageItem
        message={message}
        own={own}
        showAuthor
        onRetry={() => {}}
        onDiscard={() => {}}
        onEdit={() => {}}
        onDelete={async () => {}}
      />
    </ol>,
  );
  const row = container.querySelector<HTMLElement>('[data-testid=message]');
  if (!row) throw new Error('no message row');
  return row;
}

describe('a message row', () => {
  it('says data-edited="true" and "(edited)" once edited, with the new body', () => {
    const row = renderRow({ ...sent, body: 'the second version', edited: true, version: 7 });
    expect(row.dataset.edited).toBe('true');
    expect(row.dataset.deleted).toBe('false');
    expect(row.textContent).toContain('the second version');
    expect(row.textContent).toContain('(edited)');
  });

  it('says data-edited="false" and data-deleted="false" on a message never changed', () => {
    const row = renderRow(sent);
    expect(row.dataset.edited).toBe('false');
    expect(row.dataset.deleted).toBe('false');
    expect(row.textContent).not.toContain('(edited)');
  });

  it('stays as a "message deleted" tombstone with data-deleted="true", no body and no actions', () => {
    const row = renderRow({ ...sent, body: '', deleted: true, version: 8 });
    expect(row.dataset.deleted).toBe('true');
    expect(row.dataset.edited).toBe('false');
    expect(row.textContent).toContain('message deleted');
    expect(row.textContent).not.toContain('the first version');
    expect(row.querySelector('[data-testid=message-edit]')).toBeNull();
    expect(row.querySelector('[data-testid=message-delete]')).toBeNull();
  });

  it('shows an edit typed here at once, and says it is still being saved', () => {
    const row = renderRow({
      ...sent,
      pendingOp: { kind: 'edit', id: 'op-1', key: 4, body: 'typed offline' },
    });
    expect(row.dataset.edited).toBe('true');
    expect(row.textContent).toContain('typed offline');
    expect(row.textContent).not.toContain('the first version');
    expect(row.textContent).toContain('Saving edit…');
  });

  it('shows a delete typed here as a tombstone at once, and says it is still being deleted', () => {
    const row = renderRow({ ...sent, pendingOp: { kind: 'delete', id: 'op-2', key: 5 } });
    expect(row.dataset.deleted).toBe('true');
    expect(row.textContent).toContain('message deleted');
    expect(row.textContent).toContain('Deleting…');
    expect(row.textContent).not.toContain('the first version');
  });

  it('shows why the server refused the last edit or delete', () => {
    const row = renderRow({
      ...sent,
      opError: { code: 'not_found', reason: 'the server never stored this message' },
    });
    expect(within(row).getByRole('alert').textContent).toContain(
      'the server never stored this message',
    );
  });

  it('has Edit and Delete on an own message, and neither on someone else’s', () => {
    const own = renderRow(sent, true);
    expect(within(own).getByRole('button', { name: 'Edit message' }).dataset.testid).toBe(
      'message-edit',
    );
    expect(within(own).getByRole('button', { name: 'Delete message' }).dataset.testid).toBe(
      'message-delete',
    );
    cleanup();
    const others = renderRow(sent, false);
    expect(within(others).queryByRole('button')).toBeNull();
  });

  it('keeps Retry and Discard on a failed message, with Edit beside them', () => {
    const row = renderRow({
      ...sent,
      status: 'failed',
      order: 3,
      createdAt: 1,
      error: { code: 'body_too_long', reason: 'the message is too long' },
    });
    const names = within(row)
      .getAllByRole('button')
      .map((button) => button.textContent);
    expect(names).toEqual(['Retry', 'Edit', 'Discard']);
  });
});

describe('the message list', () => {
  it('offers Edit and Delete only on messages this user wrote', async () => {
    const engine = await Engine.create({
      url: 'http://127.0.0.1:9',
      dbName: deviceName('edit-list'),
      connectivity: { isOnline: () => false, subscribe: () => () => {} },
    });
    const grace: SentMessage = {
      ...sent,
      id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a02',
      authorId: 'u-grace',
      author: 'Grace',
      body: 'from Grace',
      seq: 2,
    };
    const snapshot: RoomSnapshot = roomSnapshot({ messages: [sent, grace] });
    render(
      <EngineProvider engine={engine}>
        <MessageList snapshot={snapshot} me="u-ada" />
      </EngineProvider>,
    );
    const [ada, fromGrace] = screen.getAllByTestId('message').map((row) => within(row));
    expect(ada?.queryByTestId('message-edit')).not.toBeNull();
    expect(ada?.queryByTestId('message-delete')).not.toBeNull();
    expect(fromGrace?.queryByRole('button')).toBeNull();
    await engine.destroy();
  });
});

describe('edit and delete in the app', () => {
  let engine: Engine;
  let profile: string;
  let storage: ReturnType<typeof memoryDraftStorage>;

  /** The app as main.tsx mounts it, over a real engine with no server: the outbox keeps all. */
  function page(): ReactNode {
    return (
      <EngineProvider engine={engine}>
        <ComposerProvider
          drafts={new DraftStore(storage, profile)}
          activity={new ComposerActivity()}
        >
          <App />
        </ComposerProvider>
      </EngineProvider>
    );
  }

  const composer = () => screen.getByTestId('composer-input') as HTMLTextAreaElement;
  const type = (text: string) => fireEvent.change(composer(), { target: { value: text } });
  const rows = () => screen.queryAllByTestId('message');
  const bodies = () => rows().map((row) => row.querySelector('.message-body')?.textContent);

  /** Sends `body` through the composer and waits for its row. */
  async function sendMessage(body: string): Promise<HTMLElement> {
    type(body);
    fireEvent.keyDown(composer(), { key: 'Enter' });
    await waitFor(() => expect(bodies()).toContain(body));
    const row = rows().find((candidate) => candidate.textContent?.includes(body));
    if (!row) throw new Error(`no row for ${body}`);
    return row;
  }

  function rowOf(id: string | undefined): HTMLElement | undefined {
    return rows().find((row) => row.dataset.id === id);
  }

  beforeEach(async () => {
    storage = memoryDraftStorage();
    profile = deviceName('edit-app');
    window.location.hash = '#/room/lobby';
    engine = await Engine.create({
      url: 'http://127.0.0.1:9',
      dbName: profile,
      connectivity: { isOnline: () => false, subscribe: () => () => {} },
    });
    await engine.setIdentity('Ada');
  });
  afterEach(() => engine.destroy());

  it('puts the body in the composer labelled "Editing message"; Enter saves it and brings the draft back', async () => {
    render(page());
    const row = await sendMessage('first tought');
    type('half a reply');
    fireEvent.click(within(row).getByTestId('message-edit'));

    expect(composer().value).toBe('first tought');
    expect(composer().getAttribute('aria-label')).toBe('Editing message');
    expect(screen.getByText('Editing message')).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(composer()));

    type('first thought');
    fireEvent.keyDown(composer(), { key: 'Enter' });
    await waitFor(() => expect(composer().value).toBe('half a reply'));
    expect(screen.queryByText('Editing message')).toBeNull();
    expect(bodies()).toEqual(['first thought']);
    expect(engine.outboxCount).toBe(1);
  });

  it('cancels on Escape: the draft comes back and the message is unchanged', async () => {
    render(page());
    const row = await sendMessage('leave me be');
    type('my draft');
    const edit = vi.spyOn(engine, 'edit');
    fireEvent.click(within(row).getByTestId('message-edit'));
    type('something else');
    fireEvent.keyDown(composer(), { key: 'Escape' });

    expect(composer().value).toBe('my draft');
    expect(screen.queryByText('Editing message')).toBeNull();
    expect(bodies()).toEqual(['leave me be']);
    expect(edit).not.toHaveBeenCalled();
  });

  it('leaves edit mode, draft back, when the message being edited is deleted meanwhile', async () => {
    render(page());
    const row = await sendMessage('edit me');
    const id = row.dataset.id ?? '';
    type('my draft');
    fireEvent.click(within(row).getByTestId('message-edit'));
    type('half an edit');
    // Deleted from its own row, or in another tab: the edit has nothing left to change.
    await act(() => engine.deleteMessage('lobby', id));
    await waitFor(() => expect(screen.queryByText('Editing message')).toBeNull());
    expect(composer().value).toBe('my draft');
  });

  it('cancels from its Cancel button too', async () => {
    render(page());
    const row = await sendMessage('leave me be');
    fireEvent.click(within(row).getByTestId('message-edit'));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel editing' }));
    expect(composer().value).toBe('');
    expect(screen.queryByText('Editing message')).toBeNull();
  });

  it('never stores the edit’s text as the room’s draft, so a reload finds the draft from before', async () => {
    const first = render(page());
    const row = await sendMessage('original');
    type('the real draft');
    fireEvent.click(within(row).getByTestId('message-edit'));
    type('an edit half done');
    expect(new DraftStore(storage, profile).read('lobby')).toBe('the real draft');

    first.unmount();
    render(page());
    expect(composer().value).toBe('the real draft');
    expect(new DraftStore(storage, profile).read('lobby')).toBe('the real draft');
  });

  it('shows the engine’s reason when an edit is saved empty, and deletes nothing', async () => {
    render(page());
    const row = await sendMessage('keep me');
    fireEvent.click(within(row).getByTestId('message-edit'));
    type('   ');
    fireEvent.keyDown(composer(), { key: 'Enter' });

    expect((await screen.findByRole('alert')).textContent).toMatch(/needs some text/);
    expect(screen.getByText('Editing message')).toBeTruthy();
    expect(bodies()).toEqual(['keep me']);
  });

  it('deletes only once confirmed: Cancel keeps the message, confirm-delete removes it', async () => {
    render(page());
    const row = await sendMessage('delete me, maybe');
    const deleteMessage = vi.spyOn(engine, 'deleteMessage');

    fireEvent.click(within(row).getByTestId('message-delete'));
    expect(deleteMessage).not.toHaveBeenCalled();
    expect(within(row).getByTestId('confirm-delete')).toBeTruthy();
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Cancel'));

    fireEvent.click(within(row).getByTestId('cancel-delete'));
    expect(within(row).queryByTestId('confirm-delete')).toBeNull();
    expect(deleteMessage).not.toHaveBeenCalled();

    fireEvent.click(within(row).getByTestId('message-delete'));
    fireEvent.click(within(row).getByTestId('confirm-delete'));
    // It never left the device: taken back whole, so the row goes.
    await waitFor(() => expect(rows()).toHaveLength(0));
    expect(deleteMessage).toHaveBeenCalledOnce();
    expect(engine.outboxCount).toBe(0);
  });

  it('cancels a delete’s question on Escape', async () => {
    render(page());
    const row = await sendMessage('still here');
    fireEvent.click(within(row).getByTestId('message-delete'));
    fireEvent.keyDown(within(row).getByTestId('confirm-delete'), { key: 'Escape' });
    expect(within(row).queryByTestId('confirm-delete')).toBeNull();
    await waitFor(() =>
      expect(document.activeElement).toBe(within(row).getByTestId('message-delete')),
    );
  });

  it('says why a delete could not be done, and keeps the message', async () => {
    render(page());
    const row = await sendMessage('cannot go');
    vi.spyOn(engine, 'deleteMessage').mockRejectedValueOnce(
      new DOMException('The transaction was aborted.', 'QuotaExceededError'),
    );
    fireEvent.click(within(row).getByTestId('message-delete'));
    await act(async () => {
      fireEvent.click(within(row).getByTestId('confirm-delete'));
    });
    expect((await within(row).findByRole('alert')).textContent).toMatch(/no storage space/);
    expect(rowOf(row.dataset.id)).toBeDefined();
  });
});
