import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { RoomSnapshot } from '../../client/engine.ts';
import type { LocalMessage } from '../../client/types.ts';
import { useEngine } from '../hooks/useEngine.tsx';
import { type LoadOlderState, useLoadOlder } from '../hooks/useLoadOlder.ts';
import { MessageItem, type VirtualRow } from './MessageItem.tsx';

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

/** The room's messages; follows new ones while the user is at the bottom. */
export function MessageList({
  snapshot,
  me,
  onEdit = IGNORE_EDIT,
  editingId = null,
}: MessageListProps) {
  const engine = useEngine();
  const { room, messages, catchingUp, hasOlder } = snapshot;
  const scroller = useRef<HTMLDivElement>(null);
  // Starts true so that opening a room lands on its latest messages.
  const atBottom = useRef(true);
  const lastId = useRef<string | undefined>(undefined);
  const older = useLoadOlder(room);
  const virtual = messages.length > FULL_RENDER_LIMIT;
  const VirtualMessageRows = useVirtualRows(virtual);

  useLayoutEffect(() => {
    const element = scroller.current;
    const last = messages.at(-1);
    // A message of one's own that was just typed is always brought into view.
    const justSent = last?.id !== lastId.current && last?.status === 'pending';
    lastId.current = last?.id;
    if (!element || !(atBottom.current || justSent)) return;
    element.scrollTop = element.scrollHeight;
    atBottom.current = true;
  }, [messages]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const distance = element.scrollHeight - element.scrollTop - element.clientHeight;
    atBottom.current = distance <= AT_BOTTOM_SLACK_PX;
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

  const row = (message: LocalMessage, index: number, virtualRow?: VirtualRow) => (
    <MessageItem
      key={message.id}
      message={message}
      own={isOwn(message, me)}
      showAuthor={messages[index - 1]?.authorId !== message.authorId}
      editing={message.id === editingId}
      virtualRow={virtualRow}
      onRetry={retry}
      onDiscard={discard}
      onEdit={onEdit}
      onDelete={deleteMessage}
    />
  );

  return (
    <div className="messages" ref={scroller} onScroll={onScroll}>
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
        <VirtualMessageRows messages={messages} scroller={scroller} atBottom={atBottom} row={row} />
      ) : virtual ? (
        <ol className="message-list">
          {messages
            .slice(-ROWS_BEFORE_VIRTUALISER)
            .map((message, index) =>
              row(message, messages.length - ROWS_BEFORE_VIRTUALISER + index),
            )}
        </ol>
      ) : (
        <ol className="message-list">{messages.map((message, index) => row(message, index))}</ol>
      )}
      {catchingUp !== null && (
        <p className="messages-note" role="status">
          {catchingUp > 0
            ? `Catching up… ${catchingUp} ${catchingUp === 1 ? 'message' : 'messages'}`
            : 'Catching up…'}
        </p>
      )}
    </div>
  );
}
