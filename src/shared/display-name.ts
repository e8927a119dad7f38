import { isWellFormed } from './text.ts';

/**
 * What a display name may contain, beyond its length. Names are shown beside every
 * message, so a name must be seen to be read: no invisible names, no names that reverse
 * the text after them, no names that break a line.
 */

/** C0 and C1 controls (tab, newline, escape, ...). */
const CONTROL = /\p{Cc}/u;
/** Line and paragraph separators: a name is one line. */
const LINE_BREAK = /[\p{Zl}\p{Zp}]/u;
/**
 * Marks, embeddings, overrides and isolates that change the direction of the text around
 * them: `bob\u202Egnp.exe` shows as `bobexe.png`.
 */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/**
 * Emoji tag sequences (the flags of England, Scotland, Wales): a black flag, tag letters,
 * a cancel tag. Their tags are the one use of tag characters allowed; anywhere else they
 * are invisible text.
 */
const EMOJI_TAG_SEQUENCE = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu;
/**
 * Invisible characters (default-ignorable code points and format characters: zero-width
 * space, soft hyphen, word joiner, Hangul fillers, BOM, tags, ...), except those that
 * real names need: the zero-width joiner and non-joiner (emoji sequences, Persian and
 * Indic scripts) and variation selectors (emoji presentation).
 */
const INVISIBLE =
  /(?!\u200c|\u200d|[\ufe00-\ufe0f]|[\u{e0100}-\u{e01ef}])[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;
/** Something that shows: a letter, digit, punctuation or symbol (the braille blank does not). */
const VISIBLE = /(?!\u2800)[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * Why `name` (already NFC-normalised and trimmed) cannot be a display name, in words a
 * user can act on; null when it can.
 */
export function displayNameProblem(name: string): string | null {
  if (!isWellFormed(name)) return 'broken characters (lone surrogates) are not allowed';
  if (CONTROL.test(name)) return 'control characters are not allowed';
  if (LINE_BREAK.test(name)) return 'line breaks are not allowed';
  if (BIDI_CONTROL.test(name)) return 'text-direction controls are not allowed';
  if (INVISIBLE.test(name.replace(EMOJI_TAG_SEQUENCE, ''))) {
    return 'invisible characters (such as zero-width spaces or fillers) are not allowed';
  }
  if (!VISIBLE.test(name)) return 'a name needs at least one visible letter, digit or symbol';
  return null;
}
