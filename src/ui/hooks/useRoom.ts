import { useEffect, useState } from 'react';
import type { RoomSnapshot } from '../../client/engine.ts';
import { useEngine, useEngineValue } from './useEngine.tsx';

interface RoomState {
  snapshot: RoomSnapshot;
  /** Why the room could not be loaded from the device, if it could not. */
  openError: Error | null;
}

/** Opens a room (loads it from the device, then keeps it in sync) and reads its snapshot. */
export function useRoom(roomId: string, invite?: string): RoomState {
  const engine = useEngine();
  const [openError, setOpenError] = useState<Error | null>(null);

  useEffect(() => {
    setOpenError(null);
    engine.openRoom(roomId, { invite }).catch((error: unknown) => {
      setOpenError(error instanceof Error ? error : new Error(String(error)));
    });
  }, [engine, roomId, invite]);

  const snapshot = useEngineValue((current) => current.room(roomId));
  return { snapshot, openError };
}
