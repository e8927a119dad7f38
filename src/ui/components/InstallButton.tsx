import { useInstallPrompt } from '../hooks/useInstallPrompt.ts';
import './pwa.css';

/** "Install", while the browser offers it and Ferry does not run installed already. */
export function InstallButton() {
  const { canInstall, installed, install } = useInstallPrompt();
  if (!canInstall || installed) return null;
  return (
    <button
      type="button"
      className="button button-small button-quiet install-button"
      data-testid="install-button"
      onClick={() => void install()}
    >
      Install
    </button>
  );
}
