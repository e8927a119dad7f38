import { type CSSProperties, memo, type Ref } from 'react';
import type { LocalMessage } from '../../client/types.ts';
import { formatMessageTime } from '../format.ts';

interface MessageItemProps {
  message: LocalMessage;
  /** Written by this device's user: shown on the right. */
  own: boolean;
  /** First of a run by one author: the name is shown above it. */
  showAuthor: boolean;
  /** In a virtualised list: where the row sits, and how the list measures it. */
  virtualRow?: { index: number; style: CSSProperties; ref: Ref<HTMLLIElement> };
  /** "Retry" on a failed message, with its id. Keep it stable across renders: see memo below. */
  onRetry: (id: string) => void;
  /** "Discard" on a failed message, with its id. Keep it stable across renders too. */
  onDiscard: (id: string) => void;
}

/**
 * One message. Messages are immutable (a change is a new object), so memo skips every
 * message but the ones that changed, as long as the callbacks keep their identity. Pure: it
 * renders what it is given, so a test draws one bubble without an engine.
 */
export const MessageItem = memo(function MessageItem({
  message,
  own,
  showAuthor,
  virtualRow,
  onRetry,
  onDiscard,
}: MessageItemProps) {
  return (
    <li
      ref={virtualRow?.ref}
      data-index={virtualRow?.index}
      style={virtualRow?.style}
      className="message"
      data-testid="message"
      data-id={message.id}
      data-status={message.status}
      data-author={message.author}
      data-own={own}
    >
      {/* dir="auto": a name or body in Arabic or Hebrew reads right to left on its own. */}
      {showAuthor && !own && (
        <span className="message-author" dir="auto">
          {message.author}
        </span>
      )}
      <div className="message-bubble">
        {/* Plain text only: a body is whatever someone typed, never markup. */}
        <p className="message-body" dir="auto">
          {message.body}
        </p>
        <MessageMeta message={message} onRetry={onRetry} onDiscard={onDiscard} />
      </div>
    </li>
  );
});

function MessageMeta({
  message,
  onRetry,
  onDiscard,
}: Pick<MessageItemProps, 'message' | 'onRetry' | 'onDiscard'>) {
  switch (message.status) {
    case 'sent':
      return (
        <time className="message-meta" dateTime={new Date(message.ts).toISOString()}>
          {formatMessageTime(message.ts)}
        </time>
      );
    case 'pending':
      return (
        <span className="message-meta">
          <ClockIcon /> Sending…
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
