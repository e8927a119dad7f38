import { useState } from 'react';
import { useEngine } from '../hooks/useEngine.tsx';
import { inviteFragment } from '../hooks/useHashRoute.ts';

/**
 * "New private room", and, in a room opened from an invite link (which is what the
 * creator lands on), a button that copies that link to share it.
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
  const [copied, setCopied] = useState(false);

  async function create() {
    setError(null);
    try {
      const created = await engine.createPrivateRoom();
      window.location.hash = inviteFragment(created.room, created.invite);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'could not create the room');
    }
  }

  async function copyLink() {
    const link = `${window.location.origin}${window.location.pathname}${inviteFragment(room, invite ?? '')}`;
    await navigator.clipboard?.writeText(link);
    setCopied(true);
  }

  return (
    <div className="room-actions">
      {invite && (
        <button
          type="button"
          className="button button-small button-quiet"
          onClick={() => void copyLink()}
          data-testid="copy-invite"
        >
          {copied ? 'Invite link copied' : 'Copy invite link'}
        </button>
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
