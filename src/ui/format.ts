const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

/** A message time: the clock time today, with the date on any other day. */
export function formatMessageTime(timestampMs: number, nowMs: number = Date.now()): string {
  const sameDay = new Date(timestampMs).toDateString() === new Date(nowMs).toDateString();
  return (sameDay ? timeFormat : dateTimeFormat).format(timestampMs);
}
