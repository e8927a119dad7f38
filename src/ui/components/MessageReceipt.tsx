import type { Receipt } from '../read-state.ts';

const RECEIPT_LABELS: Record<Receipt, string> = {
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

/**
 * The ticks on an own sent message: one when the server has it, two once another member's
 * device does, two in colour once another member has seen it. Screen readers get the word.
 */
export function MessageReceipt({ receipt }: { receipt: Receipt }) {
  const label = RECEIPT_LABELS[receipt];
  return (
    <span className="message-receipt" data-receipt={receipt} title={label}>
      <svg className="icon message-receipt-ticks" viewBox="0 0 18 16" aria-hidden="true">
        {receipt === 'sent' ? (
          <path d="M3 8.5l3 3L12.5 5" />
        ) : (
          <>
            <path d="M1 8.5l3 3L10.5 5" />
            <path d="M8 11.5L14.5 5" />
          </>
        )}
      </svg>
      <span className="message-receipt-label">{label}</span>
    </span>
  );
}
