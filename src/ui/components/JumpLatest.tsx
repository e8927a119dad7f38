interface JumpLatestProps {
  /** Messages from other members below the viewport that the user has not read. */
  unseen: number;
  onJump: () => void;
}

/** The button that floats over the list while the newest messages are below the viewport. */
export function JumpLatest({ unseen, onJump }: JumpLatestProps) {
  const label =
    unseen > 0
      ? `Jump to latest, ${unseen} new ${unseen === 1 ? 'message' : 'messages'}`
      : 'Jump to latest';
  return (
    <button
      type="button"
      className="jump-latest"
      data-testid="jump-latest"
      data-unseen={unseen}
      aria-label={label}
      title="Jump to latest"
      onClick={onJump}
    >
      {unseen > 0 && <span className="jump-latest-count">{unseen} new</span>}
      <svg className="icon jump-latest-arrow" viewBox="0 0 16 16" aria-hidden="true">
        <path d="M8 3v9M3.5 7.5 8 12l4.5-4.5" />
      </svg>
    </button>
  );
}
