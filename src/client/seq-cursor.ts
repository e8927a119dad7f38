/**
 * The gap-free cursor of one room: `cursor` is the highest seq such that every seq up to it
 * is stored; `ahead` holds stored seqs past a gap. A non-empty `ahead` means a gap: the
 * engine must catch up from `cursor`.
 */
export interface SeqCursor {
  readonly cursor: number;
  readonly ahead: ReadonlySet<number>;
}

/** Records newly stored seqs and moves the cursor over every gap they close. */
export function advanceCursor(state: SeqCursor, seqs: Iterable<number>): SeqCursor {
  let ahead: Set<number> | null = null;
  for (const seq of seqs) {
    if (seq <= state.cursor || state.ahead.has(seq)) continue;
    ahead ??= new Set(state.ahead);
    ahead.add(seq);
  }
  if (ahead === null) return state;
  let cursor = state.cursor;
  while (ahead.delete(cursor + 1)) cursor += 1;
  return { cursor, ahead };
}

export function hasGap(state: SeqCursor): boolean {
  return state.ahead.size > 0;
}
