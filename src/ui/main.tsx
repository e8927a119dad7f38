import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { browserConnectivity } from '../client/connectivity.ts';
import { DraftStore, localDraftStorage } from '../client/draft-store.ts';
import { Engine, type StorageLoss } from '../client/engine.ts';
import { DEFAULT_DB_NAME } from '../client/engine-options.ts';
import { documentVisibility } from '../client/visibility.ts';
import { App } from './App.tsx';
import { StorageLostNotice } from './components/StorageLostNotice.tsx';
import { StorageUnavailableNotice } from './components/StorageUnavailableNotice.tsx';
import { ComposerActivity } from './composer-activity.ts';
import { ComposerProvider } from './hooks/useComposer.tsx';
import { EngineProvider } from './hooks/useEngine.tsx';
import { BUILD_ID } from './pwa/build-id.ts';
import { installPrompt } from './pwa/install-prompt.ts';
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
  // Once the database is gone the engine stops syncing, and this notice replaces the app for
  // good: only a reload helps.
  let lost = false;
  const loseStorage = (loss: StorageLoss) => {
    lost = true;
    root.render(<StorageLostNotice loss={loss} onReload={() => window.location.reload()} />);
  };
  let engine: Engine;
  try {
    engine = await Engine.create({
      url: window.location.origin,
      connectivity: browserConnectivity(),
      visibility: documentVisibility(),
      onStorageBlocked: () =>
        showNotice(
          root,
          'Ferry is open in another tab with an older version. Close that tab to continue.',
        ),
      onStorageVersionChange: () => loseStorage('version_change'),
      onStorageClosed: () => loseStorage('closed'),
    });
  } catch (error) {
    root.render(
      <StorageUnavailableNotice error={error} onReload={() => window.location.reload()} />,
    );
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
          activity={new ComposerActivity()}
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
