/**
 * Where the rows of the message list are on screen. The search is pure (rectangles in,
 * indexes out) so it is tested without a layout engine; the readers below only feed it the
 * DOM's rectangles.
 */

/** A vertical extent in CSS pixels, as `getBoundingClientRect` gives it. */
export interface Span {
  top: number;
  bottom: number;
}

/** The first and last of a run of rows, by index. */
export interface RowRange {
  first: number;
  last: number;
}

/**
 * The rows at least partly inside `viewport`, among `count` rows laid out top to bottom
 * without overlapping (`spanOf(i)` is row i's extent): a binary search, so a long list costs
 * a few dozen rectangles. Null when none is.
 */
export function visibleRows(
  count: number,
  spanOf: (index: number) => Span,
  viewport: Span,
): RowRange | null {
  // The first row that ends below the viewport's top...
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (spanOf(middle).bottom > viewport.top) high = middle;
    else low = middle + 1;
  }
  const first = low;
  if (first >= count || spanOf(first).top >= viewport.bottom) return null;
  // ...and the last that starts above its bottom.
  low = first;
  high = count - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (spanOf(middle).top < viewport.bottom) low = middle;
    else high = middle - 1;
  }
  return { first, last: low };
}

/** How far the content goes on below the scroller's viewport, in CSS pixels. */
export function distanceFromBottom(scroller: HTMLElement): number {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
}

const MESSAGE = '[data-testid=message]';

function idOf(element: Element | null | undefined): string | undefined {
  return element?.getAttribute('data-id') ?? undefined;
}

/** The ids of the first and last messages at least partly on screen, or null. */
export function shownMessageIds(scroller: HTMLElement): { first: string; last: string } | null {
  const messages = scroller.querySelectorAll(MESSAGE);
  const range = visibleRows(
    messages.length,
    (index) => (messages[index] as Element).getBoundingClientRect(),
    scroller.getBoundingClientRect(),
  );
  const first = range && idOf(messages[range.first]);
  const last = range && idOf(messages[range.last]);
  return first && last ? { first, last } : null;
}

/** Where the reader's eye is: a message, and how far its top is below the viewport's. */
export interface ScrollAnchorPoint {
  id: string;
  offsetPx: number;
  /** The top of the message's row (its day and unread lines), not of the message itself. */
  row?: boolean;
}

/** The first message at least partly on screen, as an anchor, or null. */
export function firstShownMessage(scroller: HTMLElement): ScrollAnchorPoint | null {
  const messages = scroller.querySelectorAll(MESSAGE);
  const viewport = scroller.getBoundingClientRect();
  const range = visibleRows(
    messages.length,
    (index) => (messages[index] as Element).getBoundingClientRect(),
    viewport,
  );
  const message = range && messages[range.first];
  const id = idOf(message);
  return message && id
    ? { id, offsetPx: message.getBoundingClientRect().top - viewport.top }
    : null;
}

/**
 * The top of message `id` (or of its row, with `row`) in the scroller's content (the unit of
 * `scrollTop`), or null when it cannot be placed. A message in the DOM is measured; a
 * virtualised one that is not rendered is placed by `virtualStart`, where the virtualiser has
 * its row start within the list (above the message by its separators, if any: close enough
 * until it is rendered).
 */
export function messageTop(
  scroller: HTMLElement,
  id: string,
  virtualStart: (id: string) => number | null,
  row = false,
): number | null {
  const origin = scroller.getBoundingClientRect().top - scroller.scrollTop;
  const message = scroller.querySelector(`${MESSAGE}[data-id="${CSS.escape(id)}"]`);
  const element = row ? message?.closest('.message-row') : message;
  if (element) return element.getBoundingClientRect().top - origin;
  const start = virtualStart(id);
  const list = scroller.querySelector('.message-list');
  return start === null || !list ? null : list.getBoundingClientRect().top - origin + start;
}
