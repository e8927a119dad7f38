import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionStatus } from '../../src/client/connection.ts';
import { watchControllerReplacement } from '../../src/ui/pwa/controller-change.ts';
import { reloadGate } from '../../src/ui/pwa/reload-gate.ts';
import { UPDATE_CHECK_INTERVAL_MS, watchForUpdates } from '../../src/ui/pwa/update-checks.ts';

describe('the reload gate', () => {
  const cases: [ConnectionStatus, number, ReturnType<typeof reloadGate>][] = [
    ['connected', 0, { kind: 'ready' }],
    ['connected', 3, { kind: 'flushing', outboxCount: 3 }],
    ['offline', 3, { kind: 'ready' }],
    ['reconnecting', 3, { kind: 'ready' }],
    ['connecting', 3, { kind: 'ready' }],
    ['disconnected', 3, { kind: 'ready' }],
    ['failed', 3, { kind: 'ready' }],
  ];
  it.each(cases)('when %s with %i queued, answers %o', (status, outboxCount, expected) => {
    expect(reloadGate(status, outboxCount)).toEqual(expected);
  });
});

class FakeContainer extends EventTarget {
  controller: object | null;
  constructor(controller: object | null) {
    super();
    this.controller = controller;
  }
  takeOver(worker: object): void {
    this.controller = worker;
    this.dispatchEvent(new Event('controllerchange'));
  }
}

describe('controller replacement', () => {
  it('does not count the first worker claiming an uncontrolled page', () => {
    const container = new FakeContainer(null);
    const onReplaced = vi.fn();
    watchControllerReplacement(container as unknown as ServiceWorkerContainer, onReplaced);
    container.takeOver({ version: 1 });
    expect(onReplaced).not.toHaveBeenCalled();
  });

  it('counts a new worker taking over from the one that controlled the page', () => {
    const container = new FakeContainer(null);
    const onReplaced = vi.fn();
    watchControllerReplacement(container as unknown as ServiceWorkerContainer, onReplaced);
    container.takeOver({ version: 1 });
    container.takeOver({ version: 2 });
    expect(onReplaced).toHaveBeenCalledOnce();
  });

  it('stops listening once disposed', () => {
    const container = new FakeContainer({ version: 1 });
    const onReplaced = vi.fn();
    const dispose = watchControllerReplacement(
      container as unknown as ServiceWorkerContainer,
      onReplaced,
    );
    dispose();
    container.takeOver({ version: 2 });
    expect(onReplaced).not.toHaveBeenCalled();
  });
});

describe('update checks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    vi.useFakeTimers();
    const update = vi.fn(() => Promise.resolve());
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    const dispose = watchForUpdates({ update } as unknown as ServiceWorkerRegistration, {
      window: Object.assign(win, {
        setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
        clearInterval: (id: number) => clearInterval(id),
      }) as unknown as Window,
      document: doc as unknown as Document,
    });
    return { update, win, doc, dispose };
  }

  it('looks for a new version when the browser comes back online', () => {
    const { update, win, dispose } = setup();
    win.dispatchEvent(new Event('online'));
    expect(update).toHaveBeenCalledOnce();
    dispose();
  });

  it('looks when the page comes back into view, not when it goes away', () => {
    const { update, doc, dispose } = setup();
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(update).not.toHaveBeenCalled();
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(update).toHaveBeenCalledOnce();
    dispose();
  });

  it('looks every hour in a tab that stays open, until disposed', () => {
    const { update, dispose } = setup();
    vi.advanceTimersByTime(UPDATE_CHECK_INTERVAL_MS * 2);
    expect(update).toHaveBeenCalledTimes(2);
    dispose();
    vi.advanceTimersByTime(UPDATE_CHECK_INTERVAL_MS * 2);
    expect(update).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });

  it('shrugs off a failed check (offline, server down)', async () => {
    const { update, win, dispose } = setup();
    update.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    win.dispatchEvent(new Event('online'));
    await Promise.resolve();
    expect(update).toHaveBeenCalledOnce();
    dispose();
  });
});
