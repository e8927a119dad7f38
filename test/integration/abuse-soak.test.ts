// One account tries every flood at once against `npm start`'s server, with the default
// limits, while a well-behaved user keeps chatting: the server stays up and bounded.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { DEFAULT_FLOOD_LIMITS } from '../../src/server/flood-limits.ts';
import { MAX_PACKET_BYTES } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { emitRaw, postMessages, rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';

const MB = 1024 * 1024;
/** How long every flood runs at once. */
const SOAK_MS = 12_000;
/**
 * The bounds, generous for a shared 2-core machine, and far below what the floods did
 * without limits (1.3 GB of memory, /healthz stalled for 1.6 s to 3.2 s).
 */
const MAX_RSS_GROWTH_BYTES = 150 * MB;
const MAX_GOOD_ACK_P99_MS = 400;
const MAX_HEALTHZ_P99_MS = 200;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The server's resident memory, from /proc (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kilobytes) throw new Error('no VmRSS in /proc status');
  return Number(kilobytes) * 1024;
}

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

/** Milliseconds one GET /healthz takes, or Infinity if it fails. */
function timeHealthz(url: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    get(`${url}/healthz`, (response) => {
      response.resume();
      response.on('end', () => resolve(performance.now() - started));
    }).on('error', () => resolve(Number.POSITIVE_INFINITY));
  });
}

/** Runs `step` over and over while `going()`. */
async function whileGoing(going: () => boolean, step: () => Promise<void>): Promise<void> {
  while (going()) await step();
}

/**
 * Runs test/support/abuser.ts in a process of its own for `ms`: its flood's own work must
 * not slow the measuring down. Resolves with its tally of answers.
 */
function runAbuser(url: string, token: string, ms: number): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/abuser.ts', url, token, String(ms)],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the abuser exited with ${code}: ${output}`));
      else resolve(JSON.parse(output.trim().split('\n').at(-1) ?? '{}'));
    });
  });
}

describe('an abuse soak', () => {
  const cleanups = cleanupsAfterEach();

  it('keeps the server up, bounded and responsive while one account floods it every way at once', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = new ServerProcess({
      dbPath: `${dir.path}/ferry.db`,
      port: 0,
      // The default message budget, not the lifted one other suites use.
      rate: { burst: 1_000, perMinute: 100 },
    });
    await server.start();
    cleanups.push(() => server.dispose());
    const url = server.url();
    const pid = server.pid;
    if (pid === undefined) throw new Error('the server has no pid');

    // A room whose 500-message pages are 2 MB each, written by someone else.
    const seeder = await rawClient(url, { token: (await signUp(url, 'seeder')).token });
    cleanups.push(() => void seeder.close());
    const perBatch = Math.floor(MAX_PACKET_BYTES / 4_400);
    for (let stored = 0; stored < 500; stored += perBatch) {
      const body = 'x'.repeat(4_000);
      const messages = Array.from({ length: perBatch }, () => ({ id: newMessageId(), body }));
      expect(await sendBatch(seeder, 'big', messages)).toMatchObject({ ok: true });
    }
    seeder.close();

    const goodSession = await signUp(url, 'good');
    const good = await rawClient(url, { token: goodSession.token });
    cleanups.push(() => void good.close());
    expect(await emitRaw(good, 'join', { room: 'lobby' })).toMatchObject({ ok: true });
    const { token } = await signUp(url, 'mallory');

    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const rssBefore = rssOf(pid);
    let rssPeak = rssBefore;
    const abuser = runAbuser(url, token, SOAK_MS);
    let flooding = true;
    const going = () => flooding;
    abuser.finally(() => {
      flooding = false;
    });

    // Meanwhile: the good user chats, and posts as its service worker would, /healthz is
    // probed, and memory is read.
    const ackMs: number[] = [];
    const chatting = whileGoing(going, async () => {
      const started = performance.now();
      const ack = await sendBatch(good, 'lobby', [{ id: newMessageId(), body: 'hello' }]);
      expect(ack.results?.[0]?.status).toBe('accepted');
      ackMs.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const postMs: number[] = [];
    const posting = whileGoing(going, async () => {
      const started = performance.now();
      const answer = await postMessages(url, goodSession.token, {
        room: 'lobby',
        messages: [{ id: newMessageId(), body: 'hello from the worker' }],
      });
      expect(answer).toMatchObject({ status: 200, body: { results: [{ status: 'accepted' }] } });
      postMs.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 250));
    });
    const healthzMs: number[] = [];
    const probing = whileGoing(going, async () => {
      healthzMs.push(await timeHealthz(url));
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const sampling = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(pid));
    }, 100);
    cleanups.push(() => clearInterval(sampling));

    const tally = await abuser;
    await Promise.all([chatting, posting, probing]);
    clearInterval(sampling);

    const figures = {
      rssGrowthMb: Math.round((rssPeak - rssBefore) / MB),
      goodAckP99Ms: Math.round(p99(ackMs)),
      goodAcks: ackMs.length,
      goodPostP99Ms: Math.round(p99(postMs)),
      goodPosts: postMs.length,
      healthzP99Ms: Math.round(p99(healthzMs)),
      healthzProbes: healthzMs.length,
      abuser: tally,
      // The measuring process's own lag: the figures above are the server's, not ours.
      testLoopP99Ms: Math.round(lag.percentile(99) / 1e6),
    };
    lag.disable();
    console.log(`abuse soak: ${JSON.stringify(figures)}`);

    expect(server.running).toBe(true);
    expect(rssPeak - rssBefore).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(p99(ackMs)).toBeLessThan(MAX_GOOD_ACK_P99_MS);
    expect(ackMs.length).toBeGreaterThan(SOAK_MS / 1_000);
    expect(p99(postMs)).toBeLessThan(MAX_GOOD_ACK_P99_MS);
    expect(postMs.length).toBeGreaterThan(SOAK_MS / 1_000);
    expect(p99(healthzMs)).toBeLessThan(MAX_HEALTHZ_P99_MS);
    for (const refusal of [
      'socket rate_limited',
      'join rate_limited',
      'createRoom rate_limited',
      'send rate_limited',
      'post 429 rate_limited',
      'bad token 429 rate_limited',
    ]) {
      expect(tally[refusal] ?? 0, refusal).toBeGreaterThan(0);
    }
    // Each made-up token the server looked up was a refusal of the address's budget.
    const { capacity, refillPerMinute } = DEFAULT_FLOOD_LIMITS.refusedTokenRate;
    expect(
      tally['bad token 401 unauthorized'] ?? 0,
      'made-up tokens looked up',
    ).toBeLessThanOrEqual(capacity + Math.ceil((refillPerMinute * SOAK_MS) / 60_000));
    expect(tally['non-readers all dropped'], 'the non-reading sockets dropped').toBe(1);
  }, 60_000);
});
