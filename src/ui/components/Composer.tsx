import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { MAX_BODY_CHARS } from '../../shared/limits.ts';
import { useComposerServices } from '../hooks/useComposer.tsx';
import { useEngine } from '../hooks/useEngine.tsx';
import { describeSendError } from '../send-error.ts';

/** The character counter appears once a message gets this close to the limit. */
const COUNTER_FROM_CHARS = MAX_BODY_CHARS - 500;

/**
 * Types and sends a message: Enter sends, Shift+Enter starts a new line. What is typed is
 * the room's draft, stored as it is typed, until the message is in the outbox.
 * `focusOnMount` is for arrivals the user asked for (a name picked, a room switched to):
 * on a plain page load a focused box would pop up a phone's keyboard uninvited.
 */
export function Composer({ room, focusOnMount = false }: { room: string; focusOnMount?: boolean }) {
  const engine = useEngine();
  const { drafts, activity } = useComposerServices();
  const [body, setBody] = useState(() => drafts.read(room));
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  // Counts edits of the box, so a second Enter on unchanged text does not send it twice,
  // while new text typed before the last send resolved goes out at once.
  const edits = useRef(0);
  const submittedEdit = useRef(-1);
  const counterId = useId();
  const errorId = useId();

  useEffect(() => {
    if (focusOnMount) input.current?.focus();
  }, [focusOnMount]);

  // The update flow must not reload this tab under text the user is still writing.
  const writing = body.trim().length > 0;
  useEffect(() => activity.setWriting(writing), [activity, writing]);
  useEffect(() => () => activity.setWriting(false), [activity]);
  // Stored again when the composer goes (a room switch, the app replaced after a storage
  // loss): another tab of the profile may have written over this room's draft meanwhile,
  // and what this tab still shows must be what comes back.
  const shown = useRef(body);
  shown.current = body;
  useEffect(
    () => () => {
      if (shown.current.trim() !== '') drafts.write(room, shown.current);
    },
    [drafts, room],
  );

  const tooLong = body.length > MAX_BODY_CHARS;
  const canSend = body.trim().length > 0 && !tooLong;

  async function send(): Promise<void> {
    const edit = edits.current;
    if (!canSend || submittedEdit.current === edit) return;
    submittedEdit.current = edit;
    setError(null);
    try {
      // Tracked: an accepted update waits until the message is in the outbox to reload.
      await activity.track(engine.send(room, body));
      // Only the text that was sent is cleared, never what was typed after it. Until here
      // the draft still holds it, so a failed outbox write loses nothing.
      if (edits.current === edit) {
        setBody('');
        drafts.clearSent(room, body);
      }
    } catch (caught) {
      submittedEdit.current = -1;
      setError(describeSendError(caught));
    } finally {
      input.current?.focus();
    }
  }

  function onSubmit(event: FormEvent): void {
    event.preventDefault();
    void send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    // While an input method is composing, Enter confirms the composition instead.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  }

  const describedBy = [body.length >= COUNTER_FROM_CHARS && counterId, error && errorId]
    .filter(Boolean)
    .join(' ');

  return (
    <form className="composer" onSubmit={onSubmit}>
      {error && (
        <p className="composer-error" id={errorId} role="alert">
          {error}
        </p>
      )}
      <div className="composer-row">
        <textarea
          ref={input}
          className="composer-input"
          data-testid="composer-input"
          aria-label={`Message #${room}`}
          aria-describedby={describedBy || undefined}
          aria-invalid={tooLong}
          placeholder={`Message #${room}`}
          rows={1}
          enterKeyHint="send"
          value={body}
          onChange={(event) => {
            edits.current += 1;
            setBody(event.target.value);
            drafts.write(room, event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <button
          type="submit"
          className="button composer-send"
          data-testid="composer-send"
          disabled={!canSend}
          // Keeps the keyboard up on phones: the tap must not move focus off the text box.
          onPointerDown={(event) => event.preventDefault()}
        >
          Send
        </button>
      </div>
      {body.length >= COUNTER_FROM_CHARS && (
        <p className="composer-counter" id={counterId} data-over={tooLong}>
          {body.length} / {MAX_BODY_CHARS}
          {tooLong && ' — too long to send'}
        </p>
      )}
    </form>
  );
}
