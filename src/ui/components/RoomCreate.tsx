import { type FormEvent, useId, useState } from 'react';
import { useEngine } from '../hooks/useEngine.tsx';
import { inviteFragment } from '../hooks/useHashRoute.ts';

/**
 * Starts a room: a public one by name (offline too: its id is the name), or a private
 * one whose members see the name (it needs the server, which makes its id and invite).
 * The new room opens; a private one with its invite link to share.
 */
export function RoomCreate() {
  const engine = useEngine();
  const id = useId();
  const [name, setName] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      const created = await engine.createRoom(name, { private: isPrivate });
      setName('');
      window.location.hash = created.invite
        ? inviteFragment(created.room, created.invite)
        : `#/room/${created.room}`;
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'could not start the room');
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="room-create" data-testid="room-create" onSubmit={(e) => void create(e)}>
      <label className="visually-hidden" htmlFor={`${id}-name`}>
        New room name
      </label>
      <input
        id={`${id}-name`}
        className="room-create-name"
        data-testid="room-create-name"
        placeholder="New room name"
        maxLength={64}
        required
        value={name}
        onChange={(event) => setName(event.target.value)}
      />
      <label className="room-create-private">
        <input
          type="checkbox"
          data-testid="room-create-private"
          checked={isPrivate}
          onChange={(event) => setPrivate(event.target.checked)}
        />
        Private
      </label>
      <button
        type="submit"
        className="button button-small"
        data-testid="room-create-submit"
        disabled={busy || name.trim() === ''}
      >
        Start
      </button>
      {error && (
        <p className="room-create-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
