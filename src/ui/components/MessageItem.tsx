import { type CSSProperties, memo, type Ref } from 'react';
import { type Shown, shown } from '../../client/message-state.ts';
import type { LocalMessage } from '../../client/types.ts';
import { formatMessageTime } from '../format.ts';
import type { Receipt } from '../read-state.ts';
import { DaySeparator } from './DaySeparator.tsx';
import { MessageReceipt } from './MessageReceipt.tsx';
import { MessageTools } from './MessageTools.tsx';
import { UnreadDivider } from './UnreadDivider.tsx';

/** Where a row of a virtualised list goes, and how it is measured. */
export interface VirtualRow {
  index: number;
  style: CSSProperties;
  ref: Ref<HTMLLIElement>;
}

interface MessageItemProps {
  message: LocalMessage;
  /** Written by this device's user: shown on the right, with its edit and delete actions. */
  own: boolean;
  /** First of a run by one author: the name is shown above it. */
  showAuthor: boolean;
  /** The composer is editing this message: the row says so. */
  editing?: boolean;
  /** On an own sent message: how far the other members have got with it. */
  receipt?: Receipt;
  /** The first message of a day: the day's label ("Today", "Mon 30 Nov"), shown above it. */
  day?: string | null;
  /** The first unread message: the "new messages" line's text, shown above it. */
  unread?: string | null;
  /** In a virtualised list: where the row sits, and how the list measures it. */
  virtualRow?: VirtualRow;
  /** "Retry" on a failed message, with its id. Keep it stable across renders: see memo below. */
  onRetry: (id: string) => void;
  /** "Discard" on a failed message, with its id. Keep it stable across renders too. */
  onDiscard: (id: string) => void;
  /** "Edit" on an own message: its id and the body shown. Stable too. */
  onEdit: (id: string, body: string) => void;
  /** "Delete", once confirmed: settles when the delete is queued (or rejects). Stable too. */
  onDelete: (id: string) => Promise<void>;
}

/**
 * One row: the message, with the day's separator and the unread line above it when it starts
 * a day or the unread messages (inside the row, so a virtualiser measures them with it, and
 * outside the message's element, whose text is the message's). Messages are immutable (a
 * change is a new object) and the other props are strings, so memo skips every row but the
 * ones that changed, as long as the callbacks keep their identity. Pure: it renders what it
 * is given, so a test draws one bubble without an engine.
 */
export const MessageItem = memo(function MessageItem({
  message,
  own,
  showAuthor,
  editing = false,
  receipt,
  day = null,
  unread = null,
  virtualRow,
  onRetry,
  onDiscard,
  onEdit,
  onDelete,
}: MessageItemProps) {
  const view = shown(message);
  // A failed message has Retry/Edit/Discard of its own: Discard is its delete.
  const tools = own && !view.deleted && message.status !== 'failed';
  return (
    <li
      ref={virtualRow?.ref}
      data-index={virtualRow?.index}
      style={virtualRow?.style}
      className="message-row"
    >
      {day !== null && <DaySeparator label={day} />}
      {unread !== null && <UnreadDivider label={unread} />}
      <div
        className="message"
        data-testid="message"
        data-id={message.id}
        data-status={message.status}
        data-author={message.author}
        data-own={own}
        data-edited={view.edited}
        data-deleted={view.deleted}
        data-editing={editing}
        data-receipt={receipt}
      >
        {/* dir="auto": a name or body in Arabic or Hebrew reads right to left on its own. */}
        {showAuthor && !own && (
          <span className="message-author" dir="auto">
            {message.author}
          </span>
        )}
        <div className="message-bubble">
          {view.deleted ? (
            <p className="message-body message-tombstone">message deleted</p>
          ) : (
            // Plain text only: a body is whatever someone typed, never markup.
            <p className="message-body" dir="auto">
              {view.body}
            </p>
          )}
          <MessageMeta
            message={message}
            view={view}
            receipt={receipt}
            onRetry={onRetry}
            onDiscard={onDiscard}
            onEdit={onEdit}
          />
          {message.opError && (
            <p className="message-op-error" role="alert">
              Not changed: {message.opError.reason}
            </p>
          )}
          {tools && (
            <MessageTools id={message.id} body={view.body} onEdit={onEdit} onDelete={onDelete} />
          )}
        </div>
      </div>
    </li>
  );
});

function MessageMeta({
  message,
  view,
  receipt,
  onRetry,
  onDiscard,
  onEdit,
}: Pick<MessageItemProps, 'message' | 'receipt' | 'onRetry' | 'onDiscard' | 'onEdit'> & {
  view: Shown;
}) {
  switch (message.status) {
    case 'sent':
      return (
        <span className="message-meta">
          {view.changing ? (
            // Honest about what the others see: the change has not reached the server yet.
            <>
              <ClockIcon /> {view.deleted ? 'Deleting…' : 'Saving edit…'}
            </>
          ) : (
            view.edited && <span className="message-edited">(edited) </span>
          )}
          <time dateTime={new Date(message.ts).toISOString()}>{formatMessageTime(message.ts)}</time>
          {receipt && <MessageReceipt receipt={receipt} />}
        </span>
      );
    case 'pending':
      return (
        <span className="message-meta">
          {view.edited && <span className="message-edited">(edited) </span>}
          <ClockIcon /> {view.deleted ? 'Deleting…' : 'Sending…'}
        </span>
      );
    case 'failed':
      return (
        <div className="message-failure" role="alert">
          <span>Not sent: {message.error.reason}</span>
          <span className="message-actions">
            <button
              type="button"
              className="button button-small"
              onClick={() => onRetry(message.id)}
            >
              Retry
            </button>
            <button
              type="button"
              className="button button-small button-quiet"
              data-testid="message-edit"
              onClick={() => onEdit(message.id, view.body)}
            >
              Edit
            </button>
            <button
              type="button"
              className="button button-small button-quiet"
              onClick={() => onDiscard(message.id)}
            >
              Discard
            </button>
          </span>
        </div>
      );
  }
}

function ClockIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="8" cy="8" r="6.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}
