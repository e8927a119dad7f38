import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  activateNewerWorker,
  reloadIntoNewerVersion,
  TAKEOVER_WAIT_MS,
} from '../../src/ui/pwa/newer-worker.ts';

/** A service worker as the page sees it: a state, and what was posted to it. */
class FakeWorker extends EventTarget {
  state: ServiceWorkerState;
  readonly posted: unknown[] = [];

  constructor(state: ServiceWorkerState) {
    super();
    this.state = state;
  }

  postMessage(message: unknown): void {
    this.posted.push(message);
  }

  become(state: ServiceWorkerState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

/** The page's ServiceWorkerContainer with one registration; `update()` may find a newer worker. */
function containerWith(options: {
  waiting?: FakeWorker;
  foundByUpdate?: FakeWorker;
  takesOver?: boolean;
}) {
  const container = new EventTarget();
  const registration = {
    waiting: options.waiting ?? null,
    installing: null as FakeWorker | null,
    async update() {
      if (options.foundByUpdate) registration.installing = options.foundByUpdate;
    },
  };
  const skipWaiting = (worker: FakeWorker) => {
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message) => {
      post(message);
      if (options.takesOver !== false) container.dispatchEvent(new Event('controllerchange'));
    };
  };
  for (const worker of [options.waiting, options.foundByUpdate]) if (worker) skipWaiting(worker);
  return Object.assign(container, {
    getRegistration: async () => registration,
  }) as unknown as ServiceWorkerContainer;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('making the newer worker take over before a reload', () => {
  it('tells a waiting worker to skip waiting and resolves once it controls the page', async () => {
    const waiting = new FakeWorker('installed');
    await activateNewerWorker(containerWith({ waiting }));
    expect(waiting.posted).toEqual([{ type: 'SKIP_WAITING' }]);
  });

  it('waits for a worker the update check just found to install before telling it', async () => {
    const found = new FakeWorker('installing');
    const done = activateNewerWorker(containerWith({ foundByUpdate: found }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(found.posted).toEqual([]);
    found.become('installed');
    await done;
    expect(found.posted).toEqual([{ type: 'SKIP_WAITING' }]);
  });

  it('resolves at once when there is no newer worker, and when there is no service worker', async () => {
    await activateNewerWorker(containerWith({}));
    await activateNewerWorker(undefined);
  });

  it('gives up after TAKEOVER_WAIT_MS when the worker never takes over, so the reload still happens', async () => {
    vi.useFakeTimers();
    const waiting = new FakeWorker('installed');
    let settled = false;
    const done = activateNewerWorker(containerWith({ waiting, takesOver: false })).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(TAKEOVER_WAIT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toBe(true);
  });
});

describe('a reload meant to reach the newer version', () => {
  it('reloads only once the waiting worker controls the page', async () => {
    const waiting = new FakeWorker('installed');
    const reload = vi.fn(() => expect(waiting.posted).toEqual([{ type: 'SKIP_WAITING' }]));
    await reloadIntoNewerVersion(reload, containerWith({ waiting }));
    expect(reload).toHaveBeenCalledOnce();
  });

  it('still reloads where there is no service worker at all', async () => {
    const reload = vi.fn();
    await reloadIntoNewerVersion(reload, undefined);
    expect(reload).toHaveBeenCalledOnce();
  });
});
