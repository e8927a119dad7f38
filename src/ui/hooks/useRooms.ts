import type { RoomSummary } from '../../client/engine.ts';
import { useEngineValue } from './useEngine.tsx';

/** The user's rooms, newest activity first, with unread counts; re-renders when they change. */
export function useRooms(): readonly RoomSummary[] {
  return useEngineValue((engine) => engine.rooms());
}
