/**
 * Calls `onReplaced` when a new service worker takes over a page that already had one: an
 * update, accepted in this tab or in another. Not when the first worker claims the page
 * after the first install, which changes nothing the page runs.
 *
 * workbox-window's own `controlling` event cannot tell these apart when the page was
 * first loaded without a worker: its `isUpdate` then stays false for the tab's life.
 */
export function watchControllerReplacement(
  container: Pick<
    ServiceWorkerContainer,
    'controller' | 'addEventListener' | 'removeEventListener'
  >,
  onReplaced: () => void,
): () => void {
  let current = container.controller;
  const changed = () => {
    const previous = current;
    current = container.controller;
    if (previous) onReplaced();
  };
  container.addEventListener('controllerchange', changed);
  return () => container.removeEventListener('controllerchange', changed);
}
