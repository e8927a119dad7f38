/**
 * A UTF-16 unit that is half of a surrogate pair without its other half. Such text has no
 * UTF-8 form: stored, it would come back as something else (better-sqlite3 writes each
 * lone half as replacement characters), so a body must never carry one.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Whether `text` is well-formed Unicode (what ES2024's `String#isWellFormed` answers). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** `text` with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would do. */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(LONE_SURROGATES, '\ufffd');
}

/**
 * U+0000. SQLite stores it, PostgreSQL's text cannot: a body carrying one would be
 * refused by one store and kept by the other, so no body may carry it, whichever store
 * the server runs on.
 */
const NUL = '\u0000';

/** Whether every store can keep `text` exactly: well-formed, and without U+0000. */
export function isStorable(text: string): boolean {
  return isWellFormed(text) && !text.includes(NUL);
}

/** `text` with lone surrogates and U+0000 replaced by U+FFFD: what the server will store. */
export function toStorable(text: string): string {
  const wellFormed = toWellFormed(text);
  return wellFormed.includes(NUL) ? wellFormed.replaceAll(NUL, '\ufffd') : wellFormed;
}
