import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('hostile transport', () => {
  const dir = tempDir();
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    token = (await signUp(server.url, 'alice')).token;
  });
  afterAll(async () => {
    await server.stop();
    dir.dispose();
  });

  function connectWithOrigin(origin: string): Promise<string> {
    const socket = io(server.url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: false,
      extraHeaders: { Origin: origin },
    });
    return new Promise((resolve) => {
      socket.once('connect', () => {
        socket.close();
        resolve('connected');
      });
      socket.once('connect_error', () => {
        socket.close();
        resolve('refused');
      });
    });
  }

  it('refuses a handshake from a foreign Origin', async () => {
    expect(await connectWithOrigin('https://evil.example')).toBe('refused');
  });

  it('accepts a handshake from its own origin', async () => {
    expect(await connectWithOrigin(server.url)).toBe('connected');
  });

  it('refuses a 1 MB packet and keeps serving everyone else', async () => {
    const bystander: RawSocket = await rawClient(server.url, { token });
    const attacker: RawSocket = await rawClient(server.url, { token });
    const dropped = new Promise<string>((resolve) => attacker.once('disconnect', resolve));
    attacker.emit(
      'send',
      { room: 'lobby', messages: [{ id: newMessageId(), body: 'x'.repeat(1024 * 1024) }] },
      () => {},
    );
    expect(await dropped).toBe('transport close');
    expect(await server.store.count('lobby')).toBe(0);

    const ack = await emitRaw(bystander, 'send', {
      room: 'lobby',
      messages: [{ id: newMessageId(), body: 'still here' }],
    });
    expect(ack).toMatchObject({ ok: true, results: [{ status: 'accepted' }] });
    bystander.close();
  });

  it('sends security headers with the app and never a token in a URL', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });
});
