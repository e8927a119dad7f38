import { useState } from 'react';
import { useEngine } from '../hooks/useEngine.tsx';

/**
 * "Leave" in a room's header, asking first: leaving takes the room off this device with
 * whatever it still had to send, and a private room needs its invite to come back.
 */
export function LeaveRoom({ room, isPrivate }: { room: string; isPrivate: boolean }) {
  const engine = useEngine();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function leave() {
    setError(null);
    try {
      await engine.leaveRoom(room);
      window.location.hash = '#/rooms';
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'could not leave the room');
    }
  }

  if (!asking) {
    return (
      <button
        type="button"
        className="button button-small button-quiet"
        data-testid="room-leave"
        onClick={() => setAsking(true)}
      >
        Leave
      </button>
    );
  }
  return (
    <span className="room-leave-confirm">
      <span>
        {isPrivate ? 'Leave? You will need the invite to come back.' : 'Leave this room?'}
      </span>
      <button
        type="button"
        className="button button-small button-danger"
        data-testid="confirm-leave"
        onClick={() => void leave()}
      >
        Leave
      </button>
      <button
        type="button"
        className="button button-small button-quiet"
        onClick={() => setAsking(false)}
      >
        Stay
      </button>
      {error && <span role="alert">{error}</span>}
    </span>
  );
}
