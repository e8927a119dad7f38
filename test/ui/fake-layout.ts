// happy-dom lays nothing out: this gives the message list a layout to measure. The scroller
// (`.messages`) is `viewportPx` tall at the top of the window; every row of the list is
// `rowPx` tall, plain rows stacked in DOM order and virtual rows at their translateY, with
// nothing else above them (the load-older button takes no room).
import { fireEvent } from '@testing-library/react';
import { vi } from 'vitest';

export interface FakeLayout {
  /** The scroller's scrollTop. */
  readonly scrollTop: number;
  /** The largest scrollTop the content allows. */
  readonly maxScrollTop: number;
  /** Scrolls the list as a user would: sets scrollTop and fires the scroll event. */
  scrollTo(px: number): void;
}

function isScroller(element: Element): boolean {
  return element.classList.contains('messages');
}

function translateY(element: HTMLElement): number {
  const match = /translateY\((-?[\d.]+)px\)/.exec(element.style.transform);
  return match ? Number(match[1]) : 0;
}

/** Installs the layout (undone by vi.restoreAllMocks). */
export function fakeLayout({ rowPx, viewportPx }: { rowPx: number; viewportPx: number }) {
  let scrollTop = 0;
  const list = () => document.querySelector<HTMLElement>('.message-list');
  const contentHeight = () => {
    const element = list();
    if (!element) return 0;
    if (element.classList.contains('message-list-virtual')) {
      return Number.parseFloat(element.style.height) || 0;
    }
    return element.querySelectorAll('.message-row').length * rowPx;
  };
  const maxScrollTop = () => Math.max(0, contentHeight() - viewportPx);

  function rowTop(row: HTMLElement): number {
    const listTop = -scrollTop;
    const parent = row.parentElement;
    if (parent?.classList.contains('message-list-virtual')) return listTop + translateY(row);
    const rows = Array.from(parent?.querySelectorAll(':scope > .message-row') ?? []);
    return listTop + rows.indexOf(row) * rowPx;
  }

  vi.spyOn(Element.prototype, 'scrollTop', 'get').mockImplementation(function (this: Element) {
    return isScroller(this) ? scrollTop : 0;
  });
  vi.spyOn(Element.prototype, 'scrollTop', 'set').mockImplementation(function (
    this: Element,
    value: number,
  ) {
    if (!isScroller(this)) return;
    const next = Math.min(Math.max(0, value), maxScrollTop());
    if (next === scrollTop) return;
    scrollTop = next;
    // As a browser does, a scroll by script is reported too, a moment later.
    setTimeout(() => this.dispatchEvent(new Event('scroll')), 0);
  });
  vi.spyOn(Element.prototype, 'scrollHeight', 'get').mockImplementation(function (this: Element) {
    return isScroller(this) ? Math.max(contentHeight(), viewportPx) : 0;
  });
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (
    this: HTMLElement,
  ) {
    return isScroller(this) ? viewportPx : 0;
  });
  vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockImplementation(function (
    this: HTMLElement,
  ) {
    return this.classList.contains('message-row') ? rowPx : 0;
  });
  vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
    if (isScroller(this)) return new DOMRect(0, 0, 360, viewportPx);
    if (this.classList.contains('message-list'))
      return new DOMRect(0, -scrollTop, 360, contentHeight());
    // Whatever a row holds (its separators, its message) is placed as the row itself.
    const row = this.closest<HTMLElement>('.message-row');
    if (row) return new DOMRect(0, rowTop(row), 360, rowPx);
    return new DOMRect(0, 0, 0, 0);
  });

  const scroller = () => {
    const element = document.querySelector<HTMLElement>('.messages');
    if (!element) throw new Error('no message list');
    return element;
  };
  const layout: FakeLayout = {
    get scrollTop() {
      return scrollTop;
    },
    get maxScrollTop() {
      return maxScrollTop();
    },
    scrollTo(px) {
      scroller().scrollTop = px;
      fireEvent.scroll(scroller());
    },
  };
  return layout;
}
