import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { RoomSnapshot } from '../../client/engine.ts';
import type { LocalMessage } from '../../client/types.ts';
import { dayLabels } from '../day-label.ts';
import { useEngine } from '../hooks/useEngine.tsx';
import { type LoadOlderState, useLoadOlder } from '../hooks/useLoadOlder.ts';
import { useReadMarker } from '../hooks/useReadMarker.ts';
import { useRowAnchor } from '../hooks/useRowAnchor.ts';
import { useUnreadDivider } from '../hooks/useUnreadDivider.ts';
import { useViewportWatch } from '../hooks/useViewportWatch.ts';
import {
  distanceFromBottom,
  messageTop,
  type RowRange,
  shownMessageIds,
} from '../list-geometry.ts';
import { newestSentSeq, othersAfter, receiptOf, unreadLabel } from '../read-state.ts';
import { JumpLatest } from './JumpLatest.tsx';
import { MessageItem, type VirtualRow } from './MessageItem.tsx';
import { ScrollAnchor } from './ScrollAnchor.tsx';
import type { VirtualRowsHandle } from './VirtualMessageRows.tsx';

type VirtualRows = typeof import('./VirtualMessageRows.tsx').default;

/** The virtualiser's module once loaded: every later long room renders with it at once. */
let loadedVirtualRows: VirtualRows | null = null;

/**
 * The virtualised rows, loaded the first time a room needs them (`wanted`): null until
 * then. Not React.lazy: Suspense holds a revealed fallback for 300 ms, which made a warm
 * offline start of a long room three times slower; the newest rows show meanwhile instead.
 */
function useVirtualRows(wanted: boolean): VirtualRows | null {
  const [rows, setRows] = useState(() => loadedVirtualRows);
  useEffect(() => {
    if (!wanted || rows) return;
    let current = true;
    void import('./VirtualMessageRows.tsx').then((module) => {
      loadedVirtualRows = module.default;
      if (current) setRows(() => module.default);
    });
    return () => {
      current = false;
    };
  }, [wanted, rows]);
  return rows;
}

/** Rows shown plainly while the virtualiser loads: the newest, where a room opens. */
const ROWS_BEFORE_VIRTUALISER = 50;

/** How close to the end (in CSS pixels) still counts as "reading the latest messages". */
const AT_BOTTOM_SLACK_PX = 48;
/**
 * Up to this many messages every one is in the DOM (find-in-page, screen readers and the
 * contract's one element per message); past it only the rows near the viewport are, so a
 * 100,000-message room stays light.
 */
const FULL_RENDER_LIMIT = 500;
/**
 * The virtualiser is fetched once a room has this many messages (paged in by scrolling up),
 * so it is there when paging goes past FULL_RENDER_LIMIT and the rows can stay in place.
 */
const PRELOAD_VIRTUALISER_AT = FULL_RENDER_LIMIT / 2;
/** A room opened at its unread messages shows this much above the "new messages" line. */
const DIVIDER_MARGIN_PX = 8;

const LOAD_OLDER_LABELS: Record<LoadOlderState, string> = {
  idle: 'Load earlier messages',
  loading: 'Loading…',
  failed: 'Couldn’t load earlier messages — try again',
};

interface MessageListProps {
  snapshot: RoomSnapshot;
  /** This device's user id, to tell own messages from others'; null before sign-up. */
  me: string | null;
  /** "Edit" on an own message: its id and body, for the composer. Keep it stable. */
  onEdit?: (id: string, body: string) => void;
  /** The message the composer is editing, if any. */
  editingId?: string | null;
}

const IGNORE_EDIT = () => {};

function isOwn(message: LocalMessage, me: string | null): boolean {
  return message.status !== 'sent' || (me !== null && message.authorId === me);
}

/**
 * The room's messages. Opens at the first unread message (else at the bottom), follows new
 * ones while the user is at the bottom, pages older ones in as the user nears the top
 * (keeping the rows on screen in place), and marks what is on screen read.
 */
export function MessageList({
  snapshot,
  me,
  onEdit = IGNORE_EDIT,
  editingId = null,
}: MessageListProps) {
  const engine = useEngine();
  const { room, messages, catchingUp, hasOlder, loaded, receipts } = snapshot;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualRows = useRef<VirtualRowsHandle>(null);
  // Starts true so that opening a room lands on its latest messages.
  const atBottom = useRef(true);
  // The room has been scrolled to where it opens (its unread messages, or the bottom).
  const positioned = useRef(false);
  const lastId = useRef<string | undefined>(undefined);
  const older = useLoadOlder(room);
  const divider = useUnreadDivider(snapshot, me);
  const markSeen = useReadMarker(room, loaded, receipts.read);
  const [away, setAway] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const virtual = messages.length > FULL_RENDER_LIMIT;
  const VirtualMessageRows = useVirtualRows(messages.length > PRELOAD_VIRTUALISER_AT);
  const waitingForVirtualiser = virtual && !VirtualMessageRows;

  const indexOf = useMemo(
    () => new Map(messages.map((message, index) => [message.id, index])),
    [messages],
  );
  const days = useMemo(() => dayLabels(messages), [messages]);
  const dividerIndex = divider.id === null ? -1 : (indexOf.get(divider.id) ?? -1);
  const dividerText =
    dividerIndex < 0 ? null : unreadLabel(1 + othersAfter(messages, dividerIndex, me));

  /** Where a virtualised row starts within the list, rendered or not. */
  const virtualStart = useCallback(
    (id: string) => {
      const index = indexOf.get(id);
      return index === undefined ? null : (virtualRows.current?.rowStart(index) ?? null);
    },
    [indexOf],
  );

  const anchor = useRowAnchor({ scroller, virtualRows, virtualStart, atBottom, positioned });

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const last = messages.at(-1);
    // A message of one's own that was just typed is always brought into view.
    const justSent = last?.id !== lastId.current && last?.status === 'pending';
    lastId.current = last?.id;
    // A room opens at its unread line, near the top, if it has one.
    const unread = divider.id;
    if (!positioned.current && loaded && !justSent) {
      const top = unread === null ? null : messageTop(element, unread, virtualStart, true);
      if (unread !== null && top !== null) {
        element.scrollTop = Math.max(0, top - DIVIDER_MARGIN_PX);
        virtualRows.current?.scrolledTo(element.scrollTop);
        atBottom.current = distanceFromBottom(element) <= AT_BOTTOM_SLACK_PX;
        if (!atBottom.current) engine.holdWindow(room);
        positioned.current = true;
        anchor.hold({ id: unread, offsetPx: top - element.scrollTop, row: true });
        return;
      }
      // A long room's newest rows show while the virtualiser loads; its line is found then.
      if (unread === null || !waitingForVirtualiser) positioned.current = true;
    }
    if (!(atBottom.current || justSent)) return;
    element.scrollTop = element.scrollHeight;
    atBottom.current = true;
  }, [messages, loaded, divider.id, virtualStart, waitingForVirtualiser, anchor, engine, room]);

  /** Measures what is on screen; marks it read, counts what is below, pages older in. */
  const look = () => {
    const element = scroller.current;
    // Not before the list is where the room opens: the newest rows may show a moment first.
    if (!element || !loaded || !positioned.current) return;
    const ids = shownMessageIds(element);
    const first = ids ? indexOf.get(ids.first) : undefined;
    const last = ids ? indexOf.get(ids.last) : undefined;
    const shown: RowRange | null =
      first !== undefined && last !== undefined ? { first, last } : null;
    const newest = shown ? newestSentSeq(messages, shown.first, shown.last) : null;
    const pageVisible = document.visibilityState === 'visible';
    setAway(!atBottom.current);
    // "New": below the viewport and not read yet (here or on another of the user's devices).
    setUnseen(shown ? othersAfter(messages, shown.last, me, receipts.read) : 0);
    divider.look(shown, newest, pageVisible);
    if (newest !== null) markSeen(newest);
    // Not while catching up: the newest are still on their way, and a list that is short
    // for now (a first visit, before its history page lands) is not the reader scrolling up.
    if (hasOlder && catchingUp === null && element.scrollTop < element.clientHeight) {
      older.loadNearTop();
    }
  };
  const scheduleLook = useViewportWatch(look);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a look after every change of the list
  useEffect(() => scheduleLook(), [scheduleLook, snapshot, divider.id]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const wasAtBottom = atBottom.current;
    atBottom.current = distanceFromBottom(element) <= AT_BOTTOM_SLACK_PX;
    anchor.scrolled();
    // Back at the newest: the view goes back to its window (older pages are read again).
    if (atBottom.current && !wasAtBottom) engine.showLatest(room);
    // Away from it: the view keeps the rows above the reader, however many arrive below.
    if (!atBottom.current && wasAtBottom) engine.holdWindow(room);
    older.scrolled();
    scheduleLook();
  };

  // Leaving the room's screen while scrolled up: its view goes back to the window (the
  // next visit opens at the bottom or the unread line, never where this one was).
  useEffect(() => () => engine.showLatest(room), [engine, room]);

  const jumpToLatest = () => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = true;
    anchor.release();
    element.scrollTop = element.scrollHeight;
    setAway(false);
    engine.showLatest(room);
  };

  // Stable per room, so the memoised rows do not all re-render on every change of the list.
  // A failed local write has no place in the bubble: reportError hands it to the page's
  // error reporting, as an uncaught error would be.
  const retry = useCallback(
    (id: string) => void engine.retry(room, id).catch(reportError),
    [engine, room],
  );
  const discard = useCallback(
    (id: string) => void engine.discard(room, id).catch(reportError),
    [engine, room],
  );
  // Rejects with the engine's reason, which the row shows beside its confirmation.
  const deleteMessage = useCallback((id: string) => engine.deleteMessage(room, id), [engine, room]);

  const row = (message: LocalMessage, index: number, virtualRow?: VirtualRow) => {
    const day = days[index] ?? null;
    const unread = index === dividerIndex ? dividerText : null;
    return (
      <MessageItem
        key={message.id}
        message={message}
        own={isOwn(message, me)}
        // A new day or the unread line starts a new run: the name is shown again.
        showAuthor={
          day !== null || unread !== null || messages[index - 1]?.authorId !== message.authorId
        }
        editing={message.id === editingId}
        receipt={receiptOf(message, me, receipts)}
        day={day}
        unread={unread}
        virtualRow={virtualRow}
        onRetry={retry}
        onDiscard={discard}
        onEdit={onEdit}
        onDelete={deleteMessage}
      />
    );
  };

  return (
    <div className="messages-frame">
      <div className="messages" ref={scroller} onScroll={onScroll}>
        <ScrollAnchor
          watch={[messages, divider.id, hasOlder]}
          capture={anchor.capture}
          restore={anchor.restore}
        >
          {hasOlder && (
            <button
              type="button"
              className="button button-small button-quiet messages-older"
              data-testid="load-older"
              data-state={older.state}
              onClick={older.load}
              disabled={older.state === 'loading'}
            >
              {LOAD_OLDER_LABELS[older.state]}
            </button>
          )}
          {messages.length === 0 && catchingUp === null && (
            <p className="messages-note">No messages yet. Say hello!</p>
          )}
          {virtual && VirtualMessageRows ? (
            <VirtualMessageRows
              handle={virtualRows}
              messages={messages}
              scroller={scroller}
              atBottom={atBottom}
              onCommit={anchor.rowsCommitted}
              row={row}
            />
          ) : virtual ? (
            <ol className="message-list">
              {messages
                .slice(-ROWS_BEFORE_VIRTUALISER)
                .map((message, index) =>
                  row(message, messages.length - ROWS_BEFORE_VIRTUALISER + index),
                )}
            </ol>
          ) : (
            <ol className="message-list">
              {messages.map((message, index) => row(message, index))}
            </ol>
          )}
          {catchingUp !== null && (
            <p className="messages-note" role="status">
              {catchingUp > 0
                ? `Catching up… ${catchingUp} ${catchingUp === 1 ? 'message' : 'messages'}`
                : 'Catching up…'}
            </p>
          )}
        </ScrollAnchor>
      </div>
      {away && messages.length > 0 && <JumpLatest unseen={unseen} onJump={jumpToLatest} />}
    </div>
  );
}
