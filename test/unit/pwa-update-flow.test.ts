import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionStatus } from '../../src/client/connection.ts';
import { ComposerActivity, type ComposerState } from '../../src/ui/composer-activity.ts';
import { watchControllerReplacement } from '../../src/ui/pwa/controller-change.ts';
import { type ReloadGate, reloadGate } from '../../src/ui/pwa/reload-gate.ts';
import { UPDATE_CHECK_INTERVAL_MS, watchForUpdates } from '../../src/ui/pwa/update-checks.ts';
import { decideUpdate, type UpdateFacts } from '../../src/ui/pwa/update-decision.ts';

const IDLE: ComposerState = { writing: false, sending: false };
const WRITING: ComposerState = { writing: true, sending: false };
const SENDING: ComposerState = { writing: false, sending: true };

describe('the reload gate', () => {
  const outboxCases: [ConnectionStatus, number, ReloadGate][] = [
    ['connected', 0, { kind: 'ready' }],
    ['connected', 3, { kind: 'flushing', outboxCount: 3 }],
    ['offline', 3, { kind: 'ready' }],
    ['reconnecting', 3, { kind: 'ready' }],
    ['connecting', 3, { kind: 'ready' }],
    ['disconnected', 3, { kind: 'ready' }],
    ['failed', 3, { kind: 'ready' }],
  ];
  it.each(outboxCases)('when %s with %i queued, answers %o', (status, outboxCount, expected) => {
    expect(reloadGate({ status, outboxCount, composer: IDLE, acceptedHere: true })).toEqual(
      expected,
    );
  });

  const composerCases: [string, ComposerState, boolean, ReloadGate][] = [
    ['holds a message on its way to the outbox, accepted here', SENDING, true, { kind: 'sending' }],
    [
      'holds a message on its way to the outbox, accepted elsewhere',
      SENDING,
      false,
      { kind: 'sending' },
    ],
    ['holds text, accepted elsewhere', WRITING, false, { kind: 'writing' }],
    ['holds text, accepted here (the draft is stored)', WRITING, true, { kind: 'ready' }],
    ['is empty, accepted elsewhere', IDLE, false, { kind: 'ready' }],
  ];
  it.each(composerCases)('when the composer %s, answers %o', (_, composer, acceptedHere, gate) => {
    expect(reloadGate({ status: 'offline', outboxCount: 0, composer, acceptedHere })).toEqual(gate);
  });
});

describe('the update decision', () => {
  const facts = (change: Partial<UpdateFacts>): UpdateFacts => ({
    offered: false,
    accepted: false,
    takenOver: false,
    deferred: false,
    gate: { kind: 'ready' },
    ...change,
  });

  it('offers a waiting version', () => {
    expect(decideUpdate(facts({ offered: true }))).toEqual({
      phase: { kind: 'available', takenOver: false },
      action: 'none',
    });
  });

  it('asks the waiting worker to take over once accepted and nothing is in flight', () => {
    expect(decideUpdate(facts({ offered: true, accepted: true })).action).toBe('skip-waiting');
  });

  it('does not ask it while a message is on its way to the outbox (an Enter just pressed)', () => {
    expect(decideUpdate(facts({ accepted: true, gate: { kind: 'sending' } }))).toEqual({
      phase: { kind: 'reloading' },
      action: 'none',
    });
  });

  it('reloads a tab that accepted once the new worker controls it and nothing is in flight', () => {
    expect(decideUpdate(facts({ accepted: true, takenOver: true })).action).toBe('reload');
  });

  it('holds that reload until the message being sent is in the outbox', () => {
    const decision = decideUpdate(
      facts({ accepted: true, takenOver: true, gate: { kind: 'sending' } }),
    );
    expect(decision.action).toBe('none');
  });

  it('waits for outbox batches on the wire, and says how many', () => {
    const gate: ReloadGate = { kind: 'flushing', outboxCount: 2 };
    expect(decideUpdate(facts({ accepted: true, takenOver: true, gate }))).toEqual({
      phase: { kind: 'waiting', gate },
      action: 'none',
    });
  });

  it('reloads an idle tab that said Later when another tab’s acceptance takes it over', () => {
    expect(decideUpdate(facts({ takenOver: true })).action).toBe('reload');
  });

  it('defers, instead of reloading, a tab that did not accept and holds text', () => {
    expect(decideUpdate(facts({ takenOver: true, gate: { kind: 'writing' } }))).toEqual({
      phase: { kind: 'available', takenOver: true },
      action: 'defer',
    });
  });

  it('defers a tab that did not accept while its send is on its way to the outbox', () => {
    expect(decideUpdate(facts({ takenOver: true, gate: { kind: 'sending' } })).action).toBe(
      'defer',
    );
  });

  it('keeps a deferred tab offering the update once its composer is empty again', () => {
    expect(decideUpdate(facts({ takenOver: true, deferred: true }))).toEqual({
      phase: { kind: 'available', takenOver: true },
      action: 'none',
    });
  });

  it('reloads a deferred tab once its user presses Reload', () => {
    expect(decideUpdate(facts({ takenOver: true, deferred: true, accepted: true })).action).toBe(
      'reload',
    );
  });
});

describe('the composer’s activity', () => {
  it('counts a send as in progress until it reaches the outbox', async () => {
    const activity = new ComposerActivity();
    let written: () => void = () => undefined;
    const sending = activity.track(new Promise<void>((resolve) => (written = resolve)));
    expect(activity.getSnapshot()).toEqual(SENDING);
    written();
    await sending;
    expect(activity.getSnapshot()).toEqual(IDLE);
  });

  it('counts a send that failed as over', async () => {
    const activity = new ComposerActivity();
    await expect(activity.track(Promise.reject(new Error('quota')))).rejects.toThrow('quota');
    expect(activity.getSnapshot()).toEqual(IDLE);
  });

  it('tells its subscribers only when something changed', () => {
    const activity = new ComposerActivity();
    const listener = vi.fn();
    activity.subscribe(listener);
    activity.setWriting(true);
    activity.setWriting(true);
    expect(activity.getSnapshot()).toEqual(WRITING);
    expect(listener).toHaveBeenCalledOnce();
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
