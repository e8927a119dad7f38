import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { browserConnectivity } from '../client/connectivity.ts';
import { DraftStore, localDraftStorage } from '../client/draft-store.ts';
import { Engine, type StorageLoss } from '../client/engine.ts';
import { DEFAULT_DB_NAME } from '../client/engine-options.ts';
import { NewerDatabaseError } from '../client/local-db.ts';
import { documentVisibility } from '../client/visibility.ts';
import { App } from './App.tsx';
import { StorageBlockedNotice } from './components/StorageBlockedNotice.tsx';
import { StorageLostNotice } from './components/StorageLostNotice.tsx';
import { StorageUnavailableNotice } from './components/StorageUnavailableNotice.tsx';
import { ComposerActivity } from './composer-activity.ts';
import { ComposerProvider } from './hooks/useComposer.tsx';
import { EngineProvider } from './hooks/useEngine.tsx';
import { requestOutboxSync } from './pwa/background-sync.ts';
import { BUILD_ID } from './pwa/build-id.ts';
import { installPrompt } from './pwa/install-prompt.ts';
import { reloadIntoNewerVersion } from './pwa/newer-worker.ts';
import { afterStorageLoss } from './storage-loss-decision.ts';
import './styles.css';

function showNotice(root: Root, text: string): void {
  root.render(
    <main className="boot" role="status">
      <p>{text}</p>
    </main>,
  );
}

async function boot(root: Root): Promise<void> {
  showNotice(root, 'Loading…');
  const activity = new ComposerActivity();
  // Once the database is gone the engine stops syncing, and the app is replaced for good:
  // only a reload helps. An idle tab reloads by itself, a busy one asks.
  let lost = false;
  const loseStorage = (loss: StorageLoss) => {
    lost = true;
    // Read before the app goes: an unmounted composer reports itself idle.
    if (afterStorageLoss(loss, activity.getSnapshot()) === 'reload') {
      showNotice(root, 'Ferry was updated in another tab — reloading…');
      void reloadIntoNewerVersion();
      return;
    }
    const reload =
      loss === 'version_change'
        ? () => void reloadIntoNewerVersion()
        : () => window.location.reload();
    root.render(<StorageLostNotice loss={loss} onReload={reload} />);
  };
  let engine: Engine;
  try {
    engine = await Engine.create({
      url: window.location.origin,
      connectivity: browserConnectivity(),
      visibility: documentVisibility(),
      // Until the older tab lets go; then the open goes on and the app replaces this.
      onStorageBlocked: () => root.render(<StorageBlockedNotice />),
      onStorageVersionChange: () => loseStorage('version_change'),
      onStorageClosed: () => loseStorage('closed'),
      onOutboxWaiting: () => void requestOutboxSync(),
    });
  } catch (error) {
    // Data saved by a newer version needs that version: its worker may be waiting.
    const reload =
      error instanceof NewerDatabaseError
        ? () => void reloadIntoNewerVersion()
        : () => window.location.reload();
    root.render(<StorageUnavailableNotice error={error} onReload={reload} />);
    return;
  }
  // Lost while the engine was still being made: it never learnt, and would start syncing.
  if (lost) {
    void engine.destroy();
    return;
  }
  root.render(
    <StrictMode>
      <EngineProvider engine={engine}>
        {/* Drafts are kept per profile, which is the engine's default database. */}
        <ComposerProvider
          drafts={new DraftStore(localDraftStorage(), DEFAULT_DB_NAME)}
          activity={activity}
        >
          <App />
        </ComposerProvider>
      </EngineProvider>
    </StrictMode>,
  );
}

document.documentElement.dataset.build = BUILD_ID;
// Listens for the browser's install offer from the start: it may come before any room shows.
installPrompt();

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
void boot(createRoot(container));
