import { useTyping } from '../hooks/useTyping.ts';
import { typingText } from '../typing-text.ts';

/**
 * "Ada is typing…" on a line of its own above the composer. The line is always there, so
 * the messages do not jump when someone starts or stops; it is a polite live region from
 * the start (a region added together with its text is often not read), and the words
 * inside it come and go.
 */
export function TypingIndicator({ room }: { room: string }) {
  const names = useTyping(room);
  return (
    <div className="typing-line" role="status" aria-live="polite">
      {names.length > 0 && (
        <p className="typing" data-testid="typing">
          {typingText(names)}
        </p>
      )}
    </div>
  );
}
