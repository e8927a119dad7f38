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
