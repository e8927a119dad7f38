/** The line above the first message of a day: "Today", "Yesterday", "Mon 30 Nov". */
export function DaySeparator({ label }: { label: string }) {
  return (
    <div className="day-separator">
      <span className="day-separator-label">{label}</span>
    </div>
  );
}
