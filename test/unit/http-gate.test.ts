// The HTTP gate over a real HTTP server on a loopback port: what it answers once stopped,
// and when its stop resolves.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gateHttp } from '../../src/server/http-gate.ts';

describe('HTTP gate', () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A server whose `/slow` answers when `release` is called; every other path at once. */
  async function serve() {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate = gateHttp((req, res) => {
      if (req.url === '/slow') void released.then(() => res.end('slow'));
      else res.end('ok');
    });
    server = createServer(gate.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { gate, base, release };
  }

  it('answers every request as usual until stopped', async () => {
    const { base } = await serve();
    const res = await fetch(`${base}/api/session`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('answers 503 with Retry-After and closes the connection once stopped', async () => {
    const { gate, base } = await serve();
    await gate.stop();
    const res = await fetch(`${base}/api/session`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('still answers liveness once stopped: the process is alive until it exits', async () => {
    const { gate, base } = await serve();
    await gate.stop();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('resolves its stop only once the requests it took are answered', async () => {
    const { gate, base, release } = await serve();
    const slow = fetch(`${base}/slow`).then((res) => res.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    let stopped = false;
    const stop = gate.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    expect(await slow).toBe('slow');
    await stop;
    expect(stopped).toBe(true);
  });
});
