import type { Identity } from '../../client/types.ts';
import { useEngineValue } from './useEngine.tsx';

/** The display name picked on this device, or null before the first visit's prompt. */
export function useIdentity(): Identity | null {
  return useEngineValue((engine) => engine.identity);
}
