// @vitest-environment happy-dom
import { cleanup, fireEvent, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FailedMessage, LocalMessage } from '../../src/client/types.ts';
import { MessageItem } from '../../src/ui/components/MessageItem.tsx';

afterEach(cleanup);

/** One bubble on its own: no engine, only the props. */
function renderMessage(
  message: LocalMessage,
  actions: { onRetry?: (id: string) => void; onDiscard?: (id: string) => void } = {},
) {
  return render(
    <ol>
      <MessageItem
        message={message}
        own={false}
        showAuthor
        onRetry={actions.onRetry ?? (() => {})}
        onDiscard={actions.onDiscard ?? (() => {})}
        onEdit={() => {}}
        onDelete={async () => {}}
      />
    </ol>,
  );
}

const base = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  room: 'lobby',
  authorId: 'u1',
  author: 'mallory',
};

describe('message rendering', () => {
  it('renders a body of markup as inert text', () => {
    const body = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const { container } = renderMessage({
      ...base,
      body,
      status: 'sent',
      seq: 1,
      ts: 1_700_000_000_000,
    });
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('[onerror]')).toBeNull();
    expect(container.querySelector('.message-body')?.textContent).toBe(body);
  });

  it('renders a markup author name as inert text too', () => {
    const { container } = renderMessage({
      ...base,
      author: '<b onclick=x>boss</b>',
      body: 'hi',
      status: 'sent',
      seq: 2,
      ts: 1,
    });
    expect(container.querySelector('b')).toBeNull();
    expect(container.textContent).toContain('<b onclick=x>boss</b>');
  });

  const failed: FailedMessage = {
    ...base,
    body: 'too long',
    status: 'failed',
    order: 3,
    createdAt: 1,
    error: { code: 'body_too_long', reason: 'the message is too long' },
  };

  it('shows each status with its data attributes, and a failed message with its reason and actions', () => {
    const { container, getByText } = renderMessage(failed);
    const item = container.querySelector('[data-testid=message]');
    expect(item?.getAttribute('data-status')).toBe('failed');
    expect(item?.getAttribute('data-id')).toBe(base.id);
    expect(item?.getAttribute('data-author')).toBe('mallory');
    expect(getByText('Not sent: the message is too long')).toBeTruthy();
    expect(getByText('Retry')).toBeTruthy();
    expect(getByText('Discard')).toBeTruthy();
  });

  it('hands Retry and Discard on a failed message to its props, with the message id', () => {
    const onRetry = vi.fn();
    const onDiscard = vi.fn();
    const { getByText } = renderMessage(failed, { onRetry, onDiscard });
    fireEvent.click(getByText('Retry'));
    expect(onRetry).toHaveBeenCalledExactlyOnceWith(base.id);
    expect(onDiscard).not.toHaveBeenCalled();
    fireEvent.click(getByText('Discard'));
    expect(onDiscard).toHaveBeenCalledExactlyOnceWith(base.id);
    expect(onRetry).toHaveBeenCalledTimes(1);
  });

  it('lets the browser pick the direction of a body and a name from their own text', () => {
    const { container } = renderMessage({
      ...base,
      author: 'مريم',
      body: 'שלום, hello',
      status: 'sent',
      seq: 4,
      ts: 1,
    });
    expect(container.querySelector('.message-author')?.getAttribute('dir')).toBe('auto');
    expect(container.querySelector('.message-body')?.getAttribute('dir')).toBe('auto');
  });
});
