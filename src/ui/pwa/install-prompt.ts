import { Listeners } from '../../client/listeners.ts';

/** Chromium's `beforeinstallprompt` event (not in TypeScript's DOM types). */
interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  readonly userChoice: Promise<{ outcome: 'accepted' | 'dismissed'; platform: string }>;
}

function isInstallPromptEvent(event: Event): event is BeforeInstallPromptEvent {
  return typeof (event as Partial<BeforeInstallPromptEvent>).prompt === 'function';
}

/** What the Install button shows. A new object exactly when something changed. */
export interface InstallState {
  /** The browser offered installation and has not been answered yet. */
  canInstall: boolean;
  /** Running as the installed app (or just installed from this tab). */
  installed: boolean;
}

type InstallWindow = Pick<Window, 'addEventListener' | 'matchMedia'> & {
  navigator: Navigator & { standalone?: boolean };
};

/**
 * The browser's offer to install the app. `beforeinstallprompt` fires once, early, and
 * only when the install criteria are met; this store keeps the event until the user
 * presses Install, and knows when the app already runs installed (`display-mode:
 * standalone`, or iOS's `navigator.standalone`). Create it at boot so the event is caught
 * even while the name prompt is showing.
 */
export class InstallPrompt {
  readonly #listeners = new Listeners();
  #event: BeforeInstallPromptEvent | null = null;
  #state: InstallState;

  constructor(target: InstallWindow) {
    const standalone = target.matchMedia('(display-mode: standalone)');
    this.#state = {
      canInstall: false,
      installed: standalone.matches || target.navigator.standalone === true,
    };
    target.addEventListener('beforeinstallprompt', (event) => {
      if (!isInstallPromptEvent(event)) return;
      // Keeps the browser's own mini-infobar away: the app offers installation itself.
      event.preventDefault();
      this.#event = event;
      this.#set({ canInstall: true });
    });
    target.addEventListener('appinstalled', () => {
      this.#event = null;
      this.#set({ canInstall: false, installed: true });
    });
    standalone.addEventListener('change', (change) => {
      if (change.matches) this.#set({ installed: true });
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => this.#listeners.add(listener);

  readonly getSnapshot = (): InstallState => this.#state;

  /** Shows the browser's install dialog; the offer is used up whatever the answer. */
  async install(): Promise<void> {
    const event = this.#event;
    if (!event) return;
    this.#event = null;
    this.#set({ canInstall: false });
    await event.prompt();
    const choice = await event.userChoice;
    if (choice.outcome === 'accepted') this.#set({ installed: true });
  }

  #set(change: Partial<InstallState>): void {
    this.#state = { ...this.#state, ...change };
    this.#listeners.emit();
  }
}

let browserInstallPrompt: InstallPrompt | null = null;

/** The page's InstallPrompt, created on first use. */
export function installPrompt(): InstallPrompt {
  browserInstallPrompt ??= new InstallPrompt(window);
  return browserInstallPrompt;
}
