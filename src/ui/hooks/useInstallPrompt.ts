import { useSyncExternalStore } from 'react';
import { type InstallState, installPrompt } from '../pwa/install-prompt.ts';

/** The browser's install offer and whether Ferry already runs installed. */
export function useInstallPrompt(): InstallState & { install: () => Promise<void> } {
  const store = installPrompt();
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return { ...state, install: () => store.install() };
}
