// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { InstallPrompt } from '../../src/ui/pwa/install-prompt.ts';
import { requestPersistence } from '../../src/ui/pwa/storage-persistence.ts';

/** A window whose `(display-mode: standalone)` query answers `standalone`. */
function fakeWindow(standalone = false) {
  const target = new EventTarget();
  const media = Object.assign(new EventTarget(), { matches: standalone });
  return Object.assign(target, {
    matchMedia: () => media,
    navigator: {},
    media,
  });
}

/** Chromium's beforeinstallprompt, with the user's answer. */
function offer(outcome: 'accepted' | 'dismissed') {
  return Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
    prompt: vi.fn(() => Promise.resolve()),
    userChoice: Promise.resolve({ outcome, platform: 'web' }),
  });
}

function installPromptOn(win: ReturnType<typeof fakeWindow>): InstallPrompt {
  return new InstallPrompt(win as unknown as ConstructorParameters<typeof InstallPrompt>[0]);
}

describe('the install offer', () => {
  it('is available once the browser fires beforeinstallprompt, and hides its mini-infobar', () => {
    const win = fakeWindow();
    const prompt = installPromptOn(win);
    expect(prompt.getSnapshot()).toEqual({ canInstall: false, installed: false });
    const event = offer('accepted');
    win.dispatchEvent(event);
    expect(prompt.getSnapshot()).toEqual({ canInstall: true, installed: false });
    expect(event.defaultPrevented).toBe(true);
  });

  it('shows the browser dialog on install and counts an accepted install as installed', async () => {
    const win = fakeWindow();
    const prompt = installPromptOn(win);
    const event = offer('accepted');
    win.dispatchEvent(event);
    await prompt.install();
    expect(event.prompt).toHaveBeenCalledOnce();
    expect(prompt.getSnapshot()).toEqual({ canInstall: false, installed: true });
  });

  it('is used up by a dismissed dialog', async () => {
    const win = fakeWindow();
    const prompt = installPromptOn(win);
    win.dispatchEvent(offer('dismissed'));
    await prompt.install();
    expect(prompt.getSnapshot()).toEqual({ canInstall: false, installed: false });
  });

  it('knows when Ferry already runs installed (display-mode: standalone)', () => {
    expect(installPromptOn(fakeWindow(true)).getSnapshot().installed).toBe(true);
  });

  it('notices an install made from the browser menu', () => {
    const win = fakeWindow();
    const prompt = installPromptOn(win);
    win.dispatchEvent(offer('accepted'));
    win.dispatchEvent(new Event('appinstalled'));
    expect(prompt.getSnapshot()).toEqual({ canInstall: false, installed: true });
  });
});

describe('persistent storage', () => {
  const storage = (persisted: boolean, granted: boolean) => ({
    persisted: vi.fn(() => Promise.resolve(persisted)),
    persist: vi.fn(() => Promise.resolve(granted)),
  });

  it('does not ask again when storage is persistent already', async () => {
    const api = storage(true, false);
    expect(await requestPersistence(api)).toBe('persistent');
    expect(api.persist).not.toHaveBeenCalled();
  });

  it('asks, and reports a grant', async () => {
    expect(await requestPersistence(storage(false, true))).toBe('persistent');
  });

  it('asks, and reports a refusal', async () => {
    expect(await requestPersistence(storage(false, false))).toBe('refused');
  });

  it('reports browsers without the Storage API', async () => {
    expect(await requestPersistence(undefined)).toBe('unsupported');
  });
});
