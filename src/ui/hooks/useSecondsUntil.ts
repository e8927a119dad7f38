import { useEffect, useState } from 'react';

const TICK_MS = 1_000;

/** Whole seconds left until `targetMs` (epoch ms), ticking each second; null for no target. */
export function useSecondsUntil(targetMs: number | null): number | null {
  const [nowMs, setNowMs] = useState(() => Date.now());
  useEffect(() => {
    if (targetMs === null) return;
    setNowMs(Date.now());
    const timer = setInterval(() => setNowMs(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, [targetMs]);
  return targetMs === null ? null : Math.max(0, Math.ceil((targetMs - nowMs) / TICK_MS));
}
