import { useState } from 'react';
import { useEngine } from '../hooks/useEngine.tsx';
import { inviteFragment } from '../hooks/useHashRoute.ts';
import { InviteLink } from './InviteLink.tsx';

/**
 * "New private room", and, in a room opened from an invite link (which is what the
 * creator lands on), that link to share.
 */
export function PrivateRoomControls({
  room,
  invite,
}: {
  room: string;
  invite: string | undefined;
}) {
  const engine = useEngine();
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setError(null);
    try {
      const created = await engine.createPrivateRoom();
      window.location.hash = inviteFragment(created.room, created.invite);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'could not create the room');
    }
  }

  return (
    <div className="room-actions">
      {invite && (
        <InviteLink
          link={`${window.location.origin}${window.location.pathname}${inviteFragment(room, invite)}`}
        />
      )}
      <button
        type="button"
        className="button button-small button-quiet"
        onClick={() => void create()}
        data-testid="new-private-room"
      >
        New private room
      </button>
      {error && (
        <span className="room-actions-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
