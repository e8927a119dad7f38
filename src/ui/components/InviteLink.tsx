import { useId, useRef, useState } from 'react';
import { copyText } from '../clipboard.ts';

/**
 * The invite link of a private room, in a read-only field the user can always select and
 * copy by hand, and a button that copies it and says truthfully whether that worked.
 */
export function InviteLink({ link }: { link: string }) {
  const fieldId = useId();
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);

  async function copy() {
    const ok = await copyText(link);
    setCopied(ok);
    // Nothing was copied: hand over the link selected, so one keystroke copies it.
    if (!ok) {
      field.current?.focus();
      field.current?.select();
    }
  }

  return (
    <div className="invite">
      <label className="invite-label" htmlFor={fieldId}>
        Invite link
      </label>
      <input
        id={fieldId}
        ref={field}
        className="invite-link"
        data-testid="invite-link"
        type="text"
        readOnly
        value={link}
        onFocus={(event) => event.currentTarget.select()}
      />
      <button
        type="button"
        className="button button-small button-quiet"
        onClick={() => void copy()}
        data-testid="copy-invite"
      >
        Copy invite link
      </button>
      {/* The live region is there from the start, so its first message is announced too. */}
      <span className="invite-result" role="status">
        {copied !== null && (
          <span data-testid="copy-invite-result" data-copied={copied}>
            {copied
              ? 'Invite link copied'
              : 'Could not copy here: select the link and copy it yourself'}
          </span>
        )}
      </span>
    </div>
  );
}
