/** The line above the first message the user has not read: "3 new messages". */
export function UnreadDivider({ label }: { label: string }) {
  return (
    <div className="unread-divider" data-testid="unread-divider">
      <span className="unread-divider-label">{label}</span>
    </div>
  );
}
