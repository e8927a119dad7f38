import { describe, expect, it } from 'vitest';
import { dayLabel, dayLabels, messageTime } from '../../src/ui/day-label.ts';
import { pendingMessage, sentMessage } from './fixtures.ts';

/** A local time (the machine's time zone), as the user's clock shows it. */
const at = (year: number, month: number, day: number, hour = 12, minute = 0) =>
  new Date(year, month - 1, day, hour, minute).getTime();

const NOW = at(2026, 3, 10, 9, 30); // Tuesday 10 March 2026, 09:30

describe('dayLabel', () => {
  it.each([
    ['earlier today', at(2026, 3, 10, 0, 1), /^Today$/],
    ['later today (a clock a little ahead)', at(2026, 3, 10, 23, 59), /^Today$/],
    ['yesterday, just before midnight', at(2026, 3, 9, 23, 59), /^Yesterday$/],
    ['yesterday, just after midnight', at(2026, 3, 9, 0, 0), /^Yesterday$/],
    ['two days ago', at(2026, 3, 8, 12), /^Sun 8 Mar$/],
    ['earlier this year', at(2026, 1, 1, 8), /^Thu 1 Jan$/],
    // ICU puts a comma after the weekday when the year is there.
    ['last year', at(2025, 11, 30, 8), /^Sun,? 30 Nov 2025$/],
  ])('labels a message from %s', (_case, time, label) => {
    expect(dayLabel(time, NOW, 'en-GB')).toMatch(label);
  });

  it('says "Yesterday" across the first of a month and of a year', () => {
    expect(dayLabel(at(2026, 2, 28, 20), at(2026, 3, 1, 8), 'en-GB')).toBe('Yesterday');
    expect(dayLabel(at(2025, 12, 31, 20), at(2026, 1, 1, 8), 'en-GB')).toBe('Yesterday');
  });
});

describe('dayLabels', () => {
  it('labels the first message and each one that starts a new day, and only those', () => {
    const messages = [
      sentMessage(1, 'u-grace', { ts: at(2026, 3, 9, 22) }),
      sentMessage(2, 'u-grace', { ts: at(2026, 3, 9, 23) }),
      sentMessage(3, 'u-ada', { ts: at(2026, 3, 10, 8) }),
      sentMessage(4, 'u-grace', { ts: at(2026, 3, 10, 9) }),
    ];
    expect(dayLabels(messages, NOW, 'en-GB')).toEqual(['Yesterday', null, 'Today', null]);
  });

  it('dates a message not yet sent by when it was typed', () => {
    const typed = { ...pendingMessage(5, 'u-ada'), createdAt: at(2026, 3, 10, 9) };
    expect(messageTime(typed)).toBe(at(2026, 3, 10, 9));
    const messages = [sentMessage(1, 'u-grace', { ts: at(2026, 3, 9, 22) }), typed];
    expect(dayLabels(messages, NOW, 'en-GB')).toEqual(['Yesterday', 'Today']);
  });
});
