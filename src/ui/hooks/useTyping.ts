import { useEngineValue } from './useEngine.tsx';

/** Who is typing in `room` now, by name (never the user); re-renders when it changes. */
export function useTyping(room: string): readonly string[] {
  return useEngineValue((engine) => engine.typingIn(room));
}
