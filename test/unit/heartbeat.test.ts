import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/client/heartbeat.ts';

describe('Heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(answer: () => Promise<number>) {
    const rtts: number[] = [];
    const dead = vi.fn();
    const ping = vi.fn(answer);
    const heartbeat = new Heartbeat({
      ping,
      onRtt: (ms) => rtts.push(ms),
      onDead: dead,
      intervalMs: 1_000,
      timeoutMs: 500,
    });
    return { heartbeat, ping, rtts, dead };
  }

  it('pings at once on start, then once per interval, reporting each RTT', async () => {
    const { heartbeat, ping, rtts } = setup(async () => 42);
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(ping).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ping).toHaveBeenCalledTimes(4);
    expect(ping).toHaveBeenCalledWith(500);
    expect(rtts).toEqual([42, 42, 42, 42]);
    heartbeat.stop();
  });

  it('declares the link dead when a ping is not answered in time', async () => {
    const { heartbeat, dead } = setup(
      () => new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 500)),
    );
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(499);
    expect(dead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(dead).toHaveBeenCalledTimes(1);
  });

  it('stops pinging when stopped, and says nothing about a ping that ends afterwards', async () => {
    const { heartbeat, ping, dead } = setup(
      () => new Promise((_, reject) => setTimeout(() => reject(new Error('x')), 100)),
    );
    heartbeat.start();
    heartbeat.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(dead).not.toHaveBeenCalled();
  });

  it('never has two pings in flight', async () => {
    const { heartbeat, ping } = setup(
      () => new Promise((resolve) => setTimeout(() => resolve(300), 300)),
    );
    heartbeat.start();
    heartbeat.pingNow();
    heartbeat.pingNow();
    expect(ping).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(300);
    heartbeat.pingNow();
    expect(ping).toHaveBeenCalledTimes(2);
    heartbeat.stop();
  });
});
