import { describe, expect, it } from 'vitest';
import { MemoryLocks } from '../../src/client/memory-locks.ts';

/** A lock holder that keeps the lock until `letGo` is called. */
function hold(
  locks: MemoryLocks,
  name: string,
  options: { steal?: boolean; signal?: AbortSignal } = {},
) {
  const events: string[] = [];
  let letGo: () => void = () => {};
  const done = locks.request(name, options, () => {
    events.push('granted');
    return new Promise<void>((resolve) => {
      letGo = resolve;
    });
  });
  const outcome = done.then(
    () => 'released',
    (error: Error) => error.name,
  );
  return { events, outcome, letGo: () => letGo() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('MemoryLocks', () => {
  it('grants one lock at a time, to waiters in the order they asked', async () => {
    const locks = new MemoryLocks();
    const [first, second, third] = [hold(locks, 'a'), hold(locks, 'a'), hold(locks, 'a')];
    await settle();
    expect([first.events, second.events, third.events]).toEqual([['granted'], [], []]);
    first.letGo();
    await settle();
    expect([second.events, third.events]).toEqual([['granted'], []]);
    second.letGo();
    await settle();
    expect(third.events).toEqual(['granted']);
    expect(await first.outcome).toBe('released');
  });

  it('keeps locks of different names apart', async () => {
    const locks = new MemoryLocks();
    const [a, b] = [hold(locks, 'a'), hold(locks, 'b')];
    await settle();
    expect([a.events, b.events]).toEqual([['granted'], ['granted']]);
  });

  it('grants a stealing request at once and rejects the holder with an AbortError', async () => {
    const locks = new MemoryLocks();
    const holder = hold(locks, 'a');
    const waiter = hold(locks, 'a');
    await settle();
    const thief = hold(locks, 'a', { steal: true });
    await settle();
    expect(thief.events).toEqual(['granted']);
    expect(await holder.outcome).toBe('AbortError');
    // The old holder finishing later releases nothing: the thief still holds the lock.
    holder.letGo();
    await settle();
    expect(waiter.events).toEqual([]);
    thief.letGo();
    await settle();
    expect(waiter.events).toEqual(['granted']);
  });

  it('withdraws a waiting request when its signal aborts, and skips it', async () => {
    const locks = new MemoryLocks();
    const holder = hold(locks, 'a');
    const controller = new AbortController();
    const withdrawn = hold(locks, 'a', { signal: controller.signal });
    const next = hold(locks, 'a');
    controller.abort();
    expect(await withdrawn.outcome).toBe('AbortError');
    holder.letGo();
    await settle();
    expect(withdrawn.events).toEqual([]);
    expect(next.events).toEqual(['granted']);
  });

  it('refuses steal and signal together, as browsers do', async () => {
    const locks = new MemoryLocks();
    const request = locks.request(
      'a',
      { steal: true, signal: new AbortController().signal },
      () => 1,
    );
    await expect(request).rejects.toThrow('steal, signal and ifAvailable');
  });

  it('answers null at once to an ifAvailable request while the lock is held, and grants it when free', async () => {
    const locks = new MemoryLocks();
    const holder = hold(locks, 'a');
    await settle();
    expect(await locks.request('a', { ifAvailable: true }, (lock) => lock)).toBeNull();
    holder.letGo();
    await settle();
    expect(await locks.request('a', { ifAvailable: true }, (lock) => lock)).not.toBeNull();
  });

  it('keeps others waiting while an ifAvailable request holds the lock', async () => {
    const locks = new MemoryLocks();
    let letGo: () => void = () => {};
    const first = locks.request('a', { ifAvailable: true }, (lock) => {
      expect(lock).not.toBeNull();
      return new Promise<void>((resolve) => {
        letGo = resolve;
      });
    });
    await settle();
    const waiter = hold(locks, 'a');
    await settle();
    expect(waiter.events).toEqual([]);
    letGo();
    await first;
    await settle();
    expect(waiter.events).toEqual(['granted']);
  });
});
