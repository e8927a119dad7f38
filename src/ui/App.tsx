import { useState } from 'react';
import { ChatLayout } from './components/ChatLayout.tsx';
import { NamePrompt } from './components/NamePrompt.tsx';
import { UpdatePrompt } from './components/UpdatePrompt.tsx';
import { UpgradeRequiredNotice } from './components/UpgradeRequiredNotice.tsx';
import { useConnection } from './hooks/useConnection.ts';
import { useHashRoute } from './hooks/useHashRoute.ts';
import { useIdentity } from './hooks/useIdentity.ts';
import { reloadIntoNewerVersion } from './pwa/newer-worker.ts';

/**
 * The name prompt on a first visit, then the rooms and the room the URL names; the update
 * banner over both.
 */
export function App() {
  const identity = useIdentity();
  const route = useHashRoute();
  const connection = useConnection();
  // Remembered for the page's life: a room shown after the prompt focuses its composer.
  const [promptedForName] = useState(identity === null);
  return (
    <>
      {identity ? <ChatLayout route={route} afterNamePrompt={promptedForName} /> : <NamePrompt />}
      <UpdatePrompt />
      {connection.status === 'upgrade_required' && (
        <UpgradeRequiredNotice onReload={() => void reloadIntoNewerVersion()} />
      )}
    </>
  );
}
