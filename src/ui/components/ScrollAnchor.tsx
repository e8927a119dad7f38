import { Component, type ReactNode } from 'react';
import type { ScrollAnchorPoint } from '../list-geometry.ts';

interface ScrollAnchorProps {
  /** The anchor is kept across a commit in which one of these changed (each compared by identity). */
  watch: readonly unknown[];
  /** Just before React changes the DOM: where the reader's eye is, or null to leave it be. */
  capture: () => ScrollAnchorPoint | null;
  /** Just after (before the browser paints): puts that row back where it was on screen. */
  restore: (anchor: ScrollAnchorPoint) => void;
  children: ReactNode;
}

/**
 * Keeps the row the reader is looking at in place when rows are added or removed above it
 * (older messages paged in, the window trimmed at its top), so the text does not jump.
 * A class because `getSnapshotBeforeUpdate` is React's only hook into the moment before the
 * DOM changes; the restore runs after its children's layout effects (the virtualiser's) and
 * before its parent's.
 */
export class ScrollAnchor extends Component<ScrollAnchorProps> {
  override getSnapshotBeforeUpdate(previous: ScrollAnchorProps): ScrollAnchorPoint | null {
    const { watch, capture } = this.props;
    const changed =
      watch.length !== previous.watch.length ||
      watch.some((value, index) => value !== previous.watch[index]);
    return changed ? capture() : null;
  }

  override componentDidUpdate(
    _previous: ScrollAnchorProps,
    _state: unknown,
    anchor: ScrollAnchorPoint | null,
  ): void {
    if (anchor) this.props.restore(anchor);
  }

  override render(): ReactNode {
    return this.props.children;
  }
}
