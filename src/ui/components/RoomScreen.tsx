import { useCallback, useEffect, useState } from 'react';
import { shown } from '../../client/message-state.ts';
import type { LocalMessage } from '../../client/types.ts';
import { ROOMS_HASH } from '../hooks/useHashRoute.ts';
import { useIdentity } from '../hooks/useIdentity.ts';
import { useRoom } from '../hooks/useRoom.ts';
import { useWideScreen } from '../hooks/useWideScreen.ts';
import { Composer, type EditRequest } from './Composer.tsx';
import { InstallButton } from './InstallButton.tsx';
import { LeaveRoom } from './LeaveRoom.tsx';
import { LiveConnectionIndicator } from './LiveConnectionIndicator.tsx';
import { MessageList } from './MessageList.tsx';
import { OutboxCount } from './OutboxCount.tsx';
import { PrivateRoomControls } from './PrivateRoomControls.tsx';
import { StorageStatus } from './StorageStatus.tsx';
import { TypingIndicator } from './TypingIndicator.tsx';

/**
 * One room: its header with the link's state, its messages and the composer.
 * `afterNamePrompt`: the user just picked a name, so the composer takes the focus (as it
 * does after every switch to another room), instead of leaving it on the page's body.
 */
export function RoomScreen({
  roomId,
  invite,
  afterNamePrompt = false,
}: {
  roomId: string;
  invite: string | undefined;
  afterNamePrompt?: boolean;
}) {
  const { snapshot, openError } = useRoom(roomId, invite);
  const wide = useWideScreen();
  const identity = useIdentity();
  const [firstRoom] = useState(roomId);
  const [switched, setSwitched] = useState(false);
  if (!switched && roomId !== firstRoom) setSwitched(true);
  // Edit pressed on a row hands the message to the composer; an edit ends with its room.
  const [editing, setEditing] = useState<EditRequest | null>(null);
  if (editing && (editing.room !== roomId || !editable(snapshot.messages, editing.id))) {
    setEditing(null);
  }
  const startEdit = useCallback(
    (id: string, body: string) => setEditing({ room: roomId, id, body }),
    [roomId],
  );
  const endEdit = useCallback(() => setEditing(null), []);

  const isPrivate = snapshot.name !== roomId;
  const title = isPrivate ? snapshot.name : `#${roomId}`;
  useEffect(() => {
    document.title = `${title} · Ferry`;
  }, [title]);

  return (
    <div className="room">
      <header className="room-header">
        <div className="room-header-row">
          {!wide && (
            <a className="room-back" href={ROOMS_HASH} data-testid="rooms-back">
              <span aria-hidden="true">‹</span> Rooms
            </a>
          )}
          <h1 className="room-title">{title}</h1>
          <InstallButton />
          <OutboxCount />
        </div>
        <LiveConnectionIndicator />
        <StorageStatus />
        <div className="room-header-row">
          <PrivateRoomControls room={roomId} invite={invite} />
          <LeaveRoom room={roomId} isPrivate={isPrivate} />
        </div>
      </header>
      {snapshot.denied && (
        <p className="banner-error" role="alert" data-testid="room-denied">
          Can’t open this room — {snapshot.denied}.
        </p>
      )}
      {openError && (
        <p className="banner-error" role="alert">
          This room could not be loaded from the device: {openError.message}
        </p>
      )}
      {/* Keyed by room: scroll position and draft belong to the room they were made in. */}
      <MessageList
        key={`list-${roomId}`}
        snapshot={snapshot}
        me={identity?.session?.userId ?? null}
        onEdit={startEdit}
        editingId={editing?.id ?? null}
      />
      <TypingIndicator room={roomId} />
      <Composer
        key={`composer-${roomId}`}
        room={roomId}
        focusOnMount={afterNamePrompt || switched}
        editing={editing}
        onEditEnd={endEdit}
      />
    </div>
  );
}

/** Whether the message being edited is still there to edit (not deleted, here or elsewhere). */
function editable(messages: readonly LocalMessage[], id: string): boolean {
  const message = messages.find((candidate) => candidate.id === id);
  return message !== undefined && !shown(message).deleted;
}
