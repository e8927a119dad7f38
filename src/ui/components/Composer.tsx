import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { MAX_BODY_CHARS } from '../../shared/limits.ts';
import { useComposerServices } from '../hooks/useComposer.tsx';
import { useEngine } from '../hooks/useEngine.tsx';
import { describeSendError } from '../send-error.ts';
import { ComposerEditBar } from './ComposerEditBar.tsx';

/** The character counter appears once a message gets this close to the limit. */
const COUNTER_FROM_CHARS = MAX_BODY_CHARS - 500;

/** "Edit" pressed on a message of this room: the composer edits it until saved or cancelled. */
export interface EditRequest {
  room: string;
  id: string;
  /** The body as it was shown when Edit was pressed. */
  body: string;
}

/** An edit being typed: the request it answers, and its text so far. */
interface EditInProgress {
  request: EditRequest;
  text: string;
}

interface ComposerProps {
  room: string;
  focusOnMount?: boolean;
  /** The message to edit, or null to write new ones. A new object starts a new edit. */
  editing?: EditRequest | null;
  /** The edit was saved or cancelled: the caller sets `editing` back to null. */
  onEditEnd?: () => void;
}

const NO_EDIT_END = () => {};

/**
 * Types and sends a message: Enter sends, Shift+Enter starts a new line. What is typed is
 * the room's draft, stored as it is typed, until the message is in the outbox.
 * `focusOnMount` is for arrivals the user asked for (a name picked, a room switched to):
 * on a plain page load a focused box would pop up a phone's keyboard uninvited.
 *
 * In edit mode the box holds the edited message instead: Enter saves, Escape cancels. The
 * draft is set aside, untouched and still stored, and comes back when the edit ends.
 */
export function Composer({
  room,
  focusOnMount = false,
  editing = null,
  onEditEnd = NO_EDIT_END,
}: ComposerProps) {
  const engine = useEngine();
  const { drafts, activity } = useComposerServices();
  const [draft, setDraft] = useState(() => drafts.read(room));
  const [edit, setEdit] = useState<EditInProgress | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  // Counts changes of the draft, so a second Enter on unchanged text does not send it
  // twice, while new text typed before the last send resolved goes out at once.
  const changes = useRef(0);
  const submittedChange = useRef(-1);
  const counterId = useId();
  const errorId = useId();

  // A new request (or its end) replaces what the box edits; set while rendering, so the
  // box never shows one frame of the wrong text.
  if (editing !== (edit?.request ?? null)) {
    setEdit(editing ? { request: editing, text: editing.body } : null);
    setError(null);
  }

  useEffect(() => {
    if (focusOnMount) input.current?.focus();
  }, [focusOnMount]);

  useEffect(() => {
    const box = input.current;
    if (!editing || !box) return;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }, [editing]);

  // The update flow must not reload this tab under text the user is still writing.
  const writing = edit !== null || draft.trim().length > 0;
  useEffect(() => activity.setWriting(writing), [activity, writing]);
  useEffect(() => () => activity.setWriting(false), [activity]);
  // Stored again when the composer goes (a room switch, the app replaced after a storage
  // loss): another tab of the profile may have written over this room's draft meanwhile,
  // and what this tab still shows must be what comes back. Never the edit's text.
  const shownDraft = useRef(draft);
  shownDraft.current = draft;
  useEffect(
    () => () => {
      if (shownDraft.current.trim() !== '') drafts.write(room, shownDraft.current);
    },
    [drafts, room],
  );

  const text = edit ? edit.text : draft;
  const tooLong = text.length > MAX_BODY_CHARS;
  // An empty edit is let through: the engine says why it cannot be saved (delete instead).
  const canSubmit = !tooLong && !saving && (edit !== null || draft.trim().length > 0);

  async function send(): Promise<void> {
    const change = changes.current;
    if (!canSubmit || submittedChange.current === change) return;
    submittedChange.current = change;
    setError(null);
    try {
      // Tracked: an accepted update waits until the message is in the outbox to reload.
      await activity.track(engine.send(room, draft));
      // Only the text that was sent is cleared, never what was typed after it. Until here
      // the draft still holds it, so a failed outbox write loses nothing.
      if (changes.current === change) {
        setDraft('');
        drafts.clearSent(room, draft);
      }
    } catch (caught) {
      submittedChange.current = -1;
      setError(describeSendError(caught));
    } finally {
      input.current?.focus();
    }
  }

  async function save(current: EditInProgress): Promise<void> {
    if (!canSubmit) return;
    // Nothing changed: no operation to queue, and no "(edited)" on the message.
    if (current.text === current.request.body) {
      onEditEnd();
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await activity.track(engine.edit(room, current.request.id, current.text));
      onEditEnd();
    } catch (caught) {
      setError(describeSendError(caught));
    } finally {
      setSaving(false);
      input.current?.focus();
    }
  }

  function submit(): void {
    void (edit ? save(edit) : send());
  }

  function cancelEdit(): void {
    onEditEnd();
    input.current?.focus();
  }

  function onSubmit(event: FormEvent): void {
    event.preventDefault();
    submit();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    if (event.key === 'Escape' && edit) {
      event.preventDefault();
      cancelEdit();
      return;
    }
    // While an input method is composing, Enter confirms the composition instead.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    submit();
  }

  /** Only the user's own changes of the text get here, never a draft restored or cleared. */
  function onChange(value: string): void {
    // The others see "… is typing" while there is something to send; the engine throttles.
    if (value.trim() !== '') engine.typing(room);
    if (edit) {
      setEdit({ ...edit, text: value });
      return;
    }
    changes.current += 1;
    setDraft(value);
    drafts.write(room, value);
  }

  const describedBy = [text.length >= COUNTER_FROM_CHARS && counterId, error && errorId]
    .filter(Boolean)
    .join(' ');

  return (
    <form className="composer" onSubmit={onSubmit} data-editing={edit !== null}>
      {error && (
        <p className="composer-error" id={errorId} role="alert">
          {error}
        </p>
      )}
      {edit && <ComposerEditBar onCancel={cancelEdit} />}
      <div className="composer-row">
        <textarea
          ref={input}
          className="composer-input"
          data-testid="composer-input"
          aria-label={edit ? 'Editing message' : `Message #${room}`}
          aria-describedby={describedBy || undefined}
          aria-invalid={tooLong}
          placeholder={`Message #${room}`}
          rows={1}
          enterKeyHint={edit ? 'done' : 'send'}
          readOnly={saving}
          value={text}
          onChange={(event) => onChange(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button
          type="submit"
          className="button composer-send"
          data-testid="composer-send"
          disabled={!canSubmit}
          // Keeps the keyboard up on phones: the tap must not move focus off the text box.
          onPointerDown={(event) => event.preventDefault()}
        >
          {edit ? 'Save' : 'Send'}
        </button>
      </div>
      {text.length >= COUNTER_FROM_CHARS && (
        <p className="composer-counter" id={counterId} data-over={tooLong}>
          {text.length} / {MAX_BODY_CHARS}
          {tooLong && ` — too long to ${edit ? 'save' : 'send'}`}
        </p>
      )}
    </form>
  );
}
