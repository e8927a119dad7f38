import { type FormEvent, useId, useState } from 'react';
import { MAX_NAME_CHARS } from '../../shared/limits.ts';
import { displayNameSchema } from '../../shared/schemas.ts';
import { useEngine } from '../hooks/useEngine.tsx';

/** Why a display name would be refused, in the user's words; null when it is fine. */
function nameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'Pick a name so others know who is writing.';
  if (trimmed.length > MAX_NAME_CHARS) return `Keep it to ${MAX_NAME_CHARS} characters or fewer.`;
  // The server's own rule and words, so a name accepted here is never refused at sign-up,
  // and a refused one says what to change.
  const parsed = displayNameSchema.safeParse(name);
  if (parsed.success) return null;
  const reason = parsed.error.issues[0]?.message ?? 'it has characters we cannot use';
  return `That name cannot be used: ${reason}.`;
}

/** First visit: picks the display name this device writes under. */
export function NamePrompt() {
  const engine = useEngine();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const inputId = useId();
  const errorId = useId();

  async function onSubmit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const problem = nameProblem(name);
    setError(problem);
    if (problem) return;
    setSaving(true);
    try {
      await engine.setIdentity(name);
    } catch (caught) {
      setError(`Could not save your name: ${caught instanceof Error ? caught.message : caught}`);
      setSaving(false);
    }
  }

  return (
    <main className="name-prompt">
      <form className="name-card" onSubmit={onSubmit} noValidate>
        <h1 className="name-title">Welcome to Ferry</h1>
        <label className="name-label" htmlFor={inputId}>
          What should others call you?
        </label>
        <input
          id={inputId}
          className="name-input"
          data-testid="name-input"
          type="text"
          autoComplete="nickname"
          // biome-ignore lint/a11y/noAutofocus: the name is the only thing this screen asks for
          autoFocus
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setError(null);
          }}
        />
        {error && (
          <p className="name-error" id={errorId} role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button" data-testid="name-submit" disabled={saving}>
          Start chatting
        </button>
      </form>
    </main>
  );
}
