import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';
import { TYPING_SHOWN_MS, TypingBoard } from '../../src/client/typing-board.ts';

describe('who is typing', () => {
  let changes: number;
  let board: TypingBoard;

  beforeEach(() => {
    vi.useFakeTimers();
    changes = 0;
    board = new TypingBoard({
      timers: SYSTEM_TIMERS,
      selfId: () => 'me',
      onChange: () => {
        changes += 1;
      },
    });
  });
  afterEach(() => vi.useRealTimers());

  it('shows who is typing, in the order they started, room by room', () => {
    board.heard('r', 'u1', 'Ada');
    board.heard('r', 'u2', 'Grace');
    board.heard('s', 'u3', 'Linus');
    expect(board.names('r')).toEqual(['Ada', 'Grace']);
    expect(board.names('s')).toEqual(['Linus']);
    expect(board.names('quiet')).toEqual([]);
  });

  it('never shows the user themself (typing in another tab)', () => {
    board.heard('r', 'me', 'Me');
    expect(board.names('r')).toEqual([]);
    expect(changes).toBe(0);
  });

  it('forgets a signal after TYPING_SHOWN_MS unless it is renewed', () => {
    board.heard('r', 'u1', 'Ada');
    vi.advanceTimersByTime(TYPING_SHOWN_MS - 1_000);
    board.heard('r', 'u1', 'Ada');
    vi.advanceTimersByTime(TYPING_SHOWN_MS - 1_000);
    expect(board.names('r')).toEqual(['Ada']);
    vi.advanceTimersByTime(1_000);
    expect(board.names('r')).toEqual([]);
  });

  it('keeps the same array while nothing changes, so a renewal re-renders nothing', () => {
    board.heard('r', 'u1', 'Ada');
    const shown = board.names('r');
    const before = changes;
    board.heard('r', 'u1', 'Ada');
    expect(board.names('r')).toBe(shown);
    expect(changes).toBe(before);
  });

  it('drops a typist at once when their message arrives', () => {
    board.heard('r', 'u1', 'Ada');
    board.heard('r', 'u2', 'Grace');
    board.stopped('r', ['u1', 'nobody']);
    expect(board.names('r')).toEqual(['Grace']);
  });

  it('forgets everything when the link drops: nothing heard before is shown as current', () => {
    board.heard('r', 'u1', 'Ada');
    board.heard('s', 'u2', 'Grace');
    board.clear();
    expect(board.names('r')).toEqual([]);
    expect(board.names('s')).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
