import { describe, expect, it } from 'vitest';
import { TYPING_RELAYS_PER_WINDOW } from '../../src/server/typing-relay.ts';
import type { TypingEvent } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { emitNoAck, emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('the typing indicator', () => {
  const cleanups = cleanupsAfterEach();

  async function server() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => started.stop());
    return started;
  }

  async function joined(url: string, name: string, room = 'lobby'): Promise<RawSocket> {
    const socket = await rawClient(url, { token: (await signUp(url, name)).token });
    cleanups.push(() => void socket.disconnect());
    expect(await emitRaw(socket, 'join', { room })).toMatchObject({ ok: true });
    return socket;
  }

  function heard(socket: RawSocket): TypingEvent[] {
    const events: TypingEvent[] = [];
    socket.on('typing', (event) => events.push(event));
    return events;
  }

  it('shows another member typing, then not once their message arrives, and stores nothing', async () => {
    const { url, store } = await server();
    const ada = await openDevice(url, deviceName('ada'), { name: 'Ada', room: 'lobby' });
    const grace = await openDevice(url, deviceName('grace'), { name: 'Grace', room: 'lobby' });
    cleanups.push(
      () => ada.engine.destroy(),
      () => grace.engine.destroy(),
    );
    await waitFor('both to be connected', () =>
      [ada, grace].every((device) => device.engine.connection.status === 'connected'),
    );
    // Said again every 2 s (the engine's own pace) until Grace has joined and hears it.
    await waitFor('Grace to see Ada typing', () => {
      ada.engine.typing('lobby');
      return grace.engine.typingIn('lobby').length === 1;
    });
    expect(grace.engine.typingIn('lobby')).toEqual(['Ada']);
    expect(ada.engine.typingIn('lobby')).toEqual([]);
    expect(await store.count('lobby')).toBe(0);

    await ada.engine.send('lobby', 'done typing');
    await waitFor('the message to arrive', () => grace.engine.room('lobby').messages.length === 1);
    expect(grace.engine.typingIn('lobby')).toEqual([]);

    // Typing again at once, within the 2 s between signals: a send starts them afresh.
    ada.engine.typing('lobby');
    await waitFor(
      'Grace to see Ada typing again',
      () => grace.engine.typingIn('lobby').length === 1,
    );
  });

  it('forgets who was typing when its own link drops', async () => {
    const { url } = await server();
    const ada = await joined(url, 'Ada');
    const grace = await openDevice(url, deviceName('grace'), { name: 'Grace', room: 'lobby' });
    cleanups.push(() => grace.engine.destroy());
    await waitFor('Grace to join', async () => {
      emitNoAck(ada, 'typing', { room: 'lobby' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return grace.engine.typingIn('lobby').length === 1;
    });
    grace.connectivity.set(false);
    await waitFor('Grace offline', () => grace.engine.connection.status === 'offline');
    expect(grace.engine.typingIn('lobby')).toEqual([]);
  });

  it('relays at most TYPING_RELAYS_PER_WINDOW signals a second per socket and room, and only to the others in the room', async () => {
    const { url } = await server();
    const ada = await joined(url, 'Ada');
    const grace = await joined(url, 'Grace');
    const elsewhere = await joined(url, 'Linus', 'elsewhere');
    const graceHeard = heard(grace);
    const adaHeard = heard(ada);
    const elsewhereHeard = heard(elsewhere);
    for (let i = 0; i < 50; i++) emitNoAck(ada, 'typing', { room: 'lobby' });
    expect(await emitRaw(ada, 'ping', { sentAt: 1 })).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signal = { room: 'lobby', userId: expect.any(String), name: 'Ada' };
    expect(graceHeard).toEqual(Array(TYPING_RELAYS_PER_WINDOW).fill(signal));
    expect(adaHeard).toEqual([]);
    expect(elsewhereHeard).toEqual([]);
  });

  it('relays a signal behind the messages its socket sent before it, so their arrival cannot end it', async () => {
    const { url } = await server();
    const ada = await joined(url, 'Ada');
    const grace = await joined(url, 'Grace');
    const order: string[] = [];
    grace.on('messages', () => order.push('messages'));
    grace.on('typing', () => order.push('typing'));
    // Not waiting for the send's ack: the typing signal is on the wire right behind it.
    emitNoAck(ada, 'send', { room: 'lobby', messages: [{ id: crypto.randomUUID(), body: 'hi' }] });
    emitNoAck(ada, 'typing', { room: 'lobby' });
    await waitFor('both to arrive', () => order.length === 2);
    expect(order).toEqual(['messages', 'typing']);
  });

  it('refuses a signal for a room the socket has not joined, and a malformed one', async () => {
    const { url } = await server();
    const ada = await joined(url, 'Ada');
    const grace = await joined(url, 'Grace', 'private-talk');
    const graceHeard = heard(grace);
    expect(await emitRaw(ada, 'typing', { room: 'private-talk' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await emitRaw(ada, 'typing', { room: 42 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(graceHeard).toEqual([]);
  });
});
