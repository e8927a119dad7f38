import { afterEach, describe, expect, it } from 'vitest';
import { openProfileChannel, type ProfileChange } from '../../src/client/profile-channel.ts';

describe('openProfileChannel', () => {
  const opened: { close(): void }[] = [];
  afterEach(() => {
    for (const channel of opened.splice(0)) channel.close();
  });

  function listen(dbName: string): Promise<ProfileChange> {
    const channel = openProfileChannel(dbName);
    if (!channel) throw new Error('this Node has no BroadcastChannel');
    opened.push(channel);
    return new Promise((resolve) => channel.subscribe(resolve));
  }

  function postRaw(dbName: string, data: unknown): void {
    const raw = new BroadcastChannel(`ferry:${dbName}`);
    raw.postMessage(data);
    raw.close();
  }

  it('reads a change without a kind, from a tab of the version before, as a message change', async () => {
    const heard = listen('legacy');
    postRaw('legacy', { room: 'lobby', ids: ['a'] });
    expect(await heard).toEqual({ kind: 'messages', room: 'lobby', ids: ['a'] });
  });

  it('ignores what it cannot read, and hears the next change', async () => {
    const heard = listen('garbled');
    postRaw('garbled', { kind: 'sender', sending: 'yes' });
    postRaw('garbled', { kind: 'probe' });
    expect(await heard).toEqual({ kind: 'probe' });
  });
});
