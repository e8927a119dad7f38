/** Above the composer in edit mode: says the box edits a message, and cancels that. */
export function ComposerEditBar({ onCancel }: { onCancel: () => void }) {
  return (
    <div className="composer-editing">
      <span className="composer-editing-label">Editing message</span>
      <button
        type="button"
        className="button button-small button-quiet"
        data-testid="composer-cancel-edit"
        aria-label="Cancel editing"
        // The box keeps the focus (and a phone its keyboard) until the click lands.
        onPointerDown={(event) => event.preventDefault()}
        onClick={onCancel}
      >
        Cancel
      </button>
    </div>
  );
}
