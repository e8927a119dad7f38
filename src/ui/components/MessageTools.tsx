import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { describeSendError } from '../send-error.ts';

type Stage = 'idle' | 'confirming' | 'deleting';

interface MessageToolsProps {
  id: string;
  /** The body as shown, which Edit hands to the composer. */
  body: string;
  onEdit: (id: string, body: string) => void;
  onDelete: (id: string) => Promise<void>;
}

/**
 * Edit and Delete on one of the user's messages. Delete asks first, inside the row: a
 * deleted message is gone for everyone, so one stray tap must not do it.
 */
export function MessageTools({ id, body, onEdit, onDelete }: MessageToolsProps) {
  const [stage, setStage] = useState<Stage>('idle');
  const [error, setError] = useState<string | null>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  // Focus goes back to Delete after a cancel only, never when the row first renders.
  const returnFocus = useRef(false);

  useEffect(() => {
    // The least harmful choice takes the focus, so a second Enter does not delete.
    if (stage === 'confirming') cancelButton.current?.focus();
    if (stage === 'idle' && returnFocus.current) {
      returnFocus.current = false;
      deleteButton.current?.focus();
    }
  }, [stage]);

  function cancel(): void {
    returnFocus.current = true;
    setStage('idle');
  }

  async function confirm(): Promise<void> {
    setStage('deleting');
    try {
      await onDelete(id);
    } catch (caught) {
      setError(describeSendError(caught));
    }
    // Usually the row has become a tombstone (or gone) by now and this is not shown again.
    setStage('idle');
  }

  function onKeyDown(event: KeyboardEvent): void {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    cancel();
  }

  return (
    <div className="message-tools">
      {stage === 'idle' ? (
        <>
          <button
            type="button"
            className="message-tool"
            data-testid="message-edit"
            aria-label="Edit message"
            onClick={() => onEdit(id, body)}
          >
            Edit
          </button>
          <button
            ref={deleteButton}
            type="button"
            className="message-tool"
            data-testid="message-delete"
            aria-label="Delete message"
            onClick={() => {
              setError(null);
              setStage('confirming');
            }}
          >
            Delete
          </button>
        </>
      ) : (
        // Escape anywhere in the question cancels it, as in a dialog.
        <fieldset
          className="message-confirm"
          aria-label="Delete this message?"
          onKeyDown={onKeyDown}
        >
          <span>Delete this message?</span>
          <button
            type="button"
            className="message-tool message-tool-danger"
            data-testid="confirm-delete"
            disabled={stage === 'deleting'}
            onClick={() => void confirm()}
          >
            Delete
          </button>
          <button
            ref={cancelButton}
            type="button"
            className="message-tool"
            data-testid="cancel-delete"
            disabled={stage === 'deleting'}
            onClick={cancel}
          >
            Cancel
          </button>
        </fieldset>
      )}
      {error && (
        <p className="message-op-error" role="alert">
          Not deleted: {error}
        </p>
      )}
    </div>
  );
}
