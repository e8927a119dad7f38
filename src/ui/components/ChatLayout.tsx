import type { Route } from '../hooks/useHashRoute.ts';
import { useWideScreen } from '../hooks/useWideScreen.ts';
import { RoomList } from './RoomList.tsx';
import { RoomScreen } from './RoomScreen.tsx';

/**
 * The signed-in app: on a wide screen the room list beside the room (or beside a hint on
 * the list's own route); on a phone one screen at a time, the list or the room, which
 * links back to it.
 */
export function ChatLayout({ route, afterNamePrompt }: { route: Route; afterNamePrompt: boolean }) {
  const wide = useWideScreen();
  const room = route.room;
  if (!wide) {
    return room === null ? (
      <div className="room-list-screen">
        <RoomList current={null} />
      </div>
    ) : (
      <RoomScreen roomId={room} invite={route.invite} afterNamePrompt={afterNamePrompt} />
    );
  }
  return (
    <div className="layout">
      <RoomList current={room} />
      {room === null ? (
        <main className="layout-empty">
          <p className="layout-empty-title">Pick a room, or start one</p>
        </main>
      ) : (
        <RoomScreen roomId={room} invite={route.invite} afterNamePrompt={afterNamePrompt} />
      )}
    </div>
  );
}
