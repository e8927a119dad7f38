// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import { MessageItem } from '../../src/ui/components/MessageItem.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
// A real engine over fake-indexeddb; with no name picked it never connects.
beforeAll(async () => {
  engine = await Engine.create({ url: 'http://127.0.0.1:9', dbName: deviceName('render') });
});
afterAll(() => engine.destroy());
afterEach(cleanup);

function renderMessage(message: LocalMessage) {
  return render(
    <EngineProvider engine={engine}>
      <ol>
        <MessageItem message={message} own={false} showAuthor />
      </ol>
    </EngineProvider>,
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

  it('shows each status with its data attributes, and a failed message with its reason and actions', () => {
    const { container, getByText } = renderMessage({
      ...base,
      body: 'too long',
      status: 'failed',
      order: 3,
      createdAt: 1,
      error: { code: 'body_too_long', reason: 'the message is too long' },
    });
    const item = container.querySelector('[data-testid=message]');
    expect(item?.getAttribute('data-status')).toBe('failed');
    expect(item?.getAttribute('data-id')).toBe(base.id);
    expect(item?.getAttribute('data-author')).toBe('mallory');
    expect(getByText('Not sent: the message is too long')).toBeTruthy();
    expect(getByText('Retry')).toBeTruthy();
    expect(getByText('Discard')).toBeTruthy();
  });
});
