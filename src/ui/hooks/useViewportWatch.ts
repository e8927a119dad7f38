import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';

/**
 * Runs `look` (which measures what is on screen) at most once per animation frame: after each
 * call of the returned `schedule` (a scroll, a change of the list), when the page comes back
 * into view and when the window is resized. A hidden page gets no frames, so there `schedule`
 * looks at once: what arrives while the user is away is known to have arrived unseen.
 */
export function useViewportWatch(look: () => void): () => void {
  const latest = useRef(look);
  useLayoutEffect(() => {
    latest.current = look;
  });
  const frame = useRef<number | null>(null);

  const schedule = useCallback(() => {
    if (document.visibilityState !== 'visible') {
      latest.current();
      return;
    }
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      latest.current();
    });
  }, []);

  useEffect(() => {
    const onVisibility = () => {
      if (document.visibilityState === 'visible') schedule();
    };
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('resize', schedule);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('resize', schedule);
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [schedule]);

  return schedule;
}
