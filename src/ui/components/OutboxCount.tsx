import { useOutboxCount } from '../hooks/useOutboxCount.ts';

/** How many messages wait to go out; the number alone sits in its own element for tests. */
export function OutboxCount() {
  const count = useOutboxCount();
  return (
    <p className="outbox" data-empty={count === 0}>
      <span data-testid="outbox-count">{count}</span>
      <span className="outbox-label"> waiting to send</span>
    </p>
  );
}
