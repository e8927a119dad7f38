import { type FormEvent, type KeyboardEvent, useId, useRef, useState } from 'react';
import { MAX_BODY_CHARS } from '../../shared/limits.ts';
import { useEngine } from '../hooks/useEngine.tsx';
import { describeSendError } from '../send-error.ts';

/** The character counter appears once a message gets this close to the limit. */
const COUNTER_FROM_CHARS = MAX_BODY_CHARS - 500;

/** Types and sends a message: Enter sends, Shift+Enter starts a new line. */
export function Composer({ room }: { room: string }) {
  const engine = useEngine();
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  // Counts edits of the box, so a second Enter on unchanged text does not send it twice,
  // while new text typed before the last send resolved goes out at once.
  const edits = useRef(0);
  const submittedEdit = useRef(-1);
  const counterId = useId();
  const errorId = useId();

  const tooLong = body.length > MAX_BODY_CHARS;
  const canSend = body.trim().length > 0 && !tooLong;

  async function send(): Promise<void> {
    const edit = edits.current;
    if (!canSend || submittedEdit.current === edit) return;
    submittedEdit.current = edit;
    setError(null);
    try {
      await engine.send(room, body);
      // Only the text that was sent is cleared, never what was typed after it.
      if (edits.current === edit) setBody('');
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
