import { describe, expect, it } from 'vitest';
import { RequestSlots } from '../../src/client/request-slots.ts';

/** A task that runs until `finish` is called, recording how many ran beside it. */
function gated(log: { running: number; most: number; started: number[] }, id: number) {
  let finish: (fail?: boolean) => void = () => undefined;
  const task = () =>
    new Promise<number>((resolve, reject) => {
      log.started.push(id);
      log.running += 1;
      log.most = Math.max(log.most, log.running);
      finish = (fail) => {
        log.running -= 1;
        if (fail) reject(new Error(`task ${id} failed`));
        else resolve(id);
      };
    });
  return { task, finish: (fail?: boolean) => finish(fail) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('RequestSlots', () => {
  it('runs no more tasks at once than it has slots, the rest in the order they came', async () => {
    const slots = new RequestSlots(2);
    const log = { running: 0, most: 0, started: [] as number[] };
    const tasks = [1, 2, 3, 4, 5].map((id) => gated(log, id));
    const results = tasks.map(({ task }) => slots.run(task));
    await settle();
    expect(log.started).toEqual([1, 2]);
    for (const { finish } of tasks) {
      finish();
      await settle();
    }
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4, 5]);
    expect(log.started).toEqual([1, 2, 3, 4, 5]);
    expect(log.most).toBe(2);
  });

  it('frees the slot of a task that failed for the next one', async () => {
    const slots = new RequestSlots(1);
    const log = { running: 0, most: 0, started: [] as number[] };
    const [first, second] = [gated(log, 1), gated(log, 2)];
    const failing = slots.run(first.task);
    const next = slots.run(second.task);
    await settle();
    first.finish(true);
    await expect(failing).rejects.toThrow('task 1 failed');
    await settle();
    second.finish();
    expect(await next).toBe(2);
    expect(log.most).toBe(1);
  });
});
