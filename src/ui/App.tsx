import { NamePrompt } from './components/NamePrompt.tsx';
import { RoomScreen } from './components/RoomScreen.tsx';
import { UpdatePrompt } from './components/UpdatePrompt.tsx';
import { useHashRoute } from './hooks/useHashRoute.ts';
import { useIdentity } from './hooks/useIdentity.ts';

/** The name prompt on a first visit, then the room the URL names; the update banner over both. */
export function App() {
  const identity = useIdentity();
  const route = useHashRoute();
  return (
    <>
      {identity ? <RoomScreen roomId={route.room} invite={route.invite} /> : <NamePrompt />}
      <UpdatePrompt />
    </>
  );
}
