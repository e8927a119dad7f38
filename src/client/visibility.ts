/** Whether the page is in front of the user. Injected like Connectivity. */
export interface Visibility {
  isVisible(): boolean;
  subscribe(listener: (visible: boolean) => void): () => void;
}

/** For Node and tests: always visible. */
export const ALWAYS_VISIBLE: Visibility = {
  isVisible: () => true,
  subscribe: () => () => {},
};

/** The browser's Page Visibility API. */
export function documentVisibility(target: Document = document): Visibility {
  return {
    isVisible: () => target.visibilityState === 'visible',
    subscribe(listener) {
      const changed = () => listener(target.visibilityState === 'visible');
      target.addEventListener('visibilitychange', changed);
      return () => target.removeEventListener('visibilitychange', changed);
    },
  };
}
