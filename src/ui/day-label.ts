import type { LocalMessage } from '../client/types.ts';

/** When the list dates a message: the server's time once sent, this device's before that. */
export function messageTime(message: LocalMessage): number {
  return message.status === 'sent' ? message.ts : message.createdAt;
}

/** Whether two instants fall on the same calendar day where the user is. */
export function sameDay(aMs: number, bMs: number): boolean {
  const a = new Date(aMs);
  const b = new Date(bMs);
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

const formats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(locale: string | undefined, withYear: boolean): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${withYear}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: withYear ? 'numeric' : undefined,
    });
    formats.set(key, format);
  }
  return format;
}

/**
 * A day separator's text: "Today", "Yesterday", else the date in the user's locale ("Mon 30
 * Nov" in en-GB), with the year when it is not this year's.
 */
export function dayLabel(timeMs: number, nowMs: number = Date.now(), locale?: string): string {
  if (sameDay(timeMs, nowMs)) return 'Today';
  const now = new Date(nowMs);
  // Noon of the day before: a day of 23 or 25 hours (daylight saving) still lands on it.
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 12).getTime();
  if (sameDay(timeMs, yesterday)) return 'Yesterday';
  const thisYear = new Date(timeMs).getFullYear() === now.getFullYear();
  return dateFormat(locale, !thisYear).format(timeMs);
}

/**
 * The separator above each message of `messages`: a label where a new day starts (the first
 * message always starts one), null elsewhere.
 */
export function dayLabels(
  messages: readonly LocalMessage[],
  nowMs: number = Date.now(),
  locale?: string,
): (string | null)[] {
  let previous: number | null = null;
  return messages.map((message) => {
    const time = messageTime(message);
    const starts = previous === null || !sameDay(previous, time);
    previous = time;
    return starts ? dayLabel(time, nowMs, locale) : null;
  });
}
