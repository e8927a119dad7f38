import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/shared/serial-queue.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SerialQueue', () => {
  it('runs tasks one at a time in push order, even when earlier ones are slower', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      queue.push(task('a', 20)),
      queue.push(task('b', 1)),
      queue.push(task('c', 5)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('keeps going after a task fails, and rejects only that task', async () => {
    const queue = new SerialQueue();
    const failing = queue.push(async () => {
      throw new Error('boom');
    });
    const next = queue.push(async () => 'still runs');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('still runs');
  });
});
