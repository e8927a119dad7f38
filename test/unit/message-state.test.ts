import { describe, expect, it } from 'vitest';
import {
  type Amendment,
  amend,
  applyOp,
  mergeCopy,
  shown,
  withAmendment,
} from '../../src/client/message-state.ts';
import type { LocalMessage, SentMessage } from '../../src/client/types.ts';
import type { StoredOp } from '../../src/shared/protocol.ts';

const M = '00000000-0000-7000-8000-000000000001';
let nextOp = 100;

function original(body = 'helo'): SentMessage {
  return { id: M, room: 'r', authorId: 'u', author: 'u', body, status: 'sent', seq: 1, ts: 10 };
}

function edit(seq: number, body: string): StoredOp {
  const id = `00000000-0000-7000-8000-${String(nextOp++).padStart(12, '0')}`;
  return {
    id,
    room: 'r',
    authorId: 'u',
    author: 'u',
    seq,
    ts: 10 + seq,
    kind: 'edit',
    target: M,
    body,
  };
}

function remove(seq: number): StoredOp {
  return { ...edit(seq, ''), kind: 'delete' };
}

/** What a device shows of the message once it holds the original and heard `ops` in order. */
function afterOps(
  ops: readonly StoredOp[],
  arrivesAfter = 0,
): Pick<SentMessage, 'body' | 'edited' | 'deleted' | 'version'> {
  let amendment: Amendment | undefined;
  let message: SentMessage | undefined = arrivesAfter === 0 ? original() : undefined;
  ops.forEach((op, index) => {
    if (message) message = applyOp(message, op);
    else amendment = amend(amendment, op);
    if (index + 1 === arrivesAfter) {
      message = amendment ? withAmendment(original(), amendment) : original();
    }
  });
  const { body, edited, deleted, version } = message ?? original();
  return { body, edited, deleted, version };
}

describe('the merge of edits and deletes into a message', () => {
  const e2 = edit(2, 'hello');
  const e3 = edit(3, 'hello!');
  const d4 = remove(4);
  const e5 = edit(5, 'back from the dead');
  const cases: {
    name: string;
    ops: StoredOp[];
    /** The original arrives after this many operations were heard (0: it was there first). */
    arrivesAfter?: number;
    expected: Pick<SentMessage, 'body' | 'edited' | 'deleted' | 'version'>;
  }[] = [
    {
      name: 'an edit replaces the body and marks it edited at the edit’s seq',
      ops: [e2],
      expected: { body: 'hello', edited: true, deleted: undefined, version: 2 },
    },
    {
      name: 'two edits in order end at the second',
      ops: [e2, e3],
      expected: { body: 'hello!', edited: true, deleted: undefined, version: 3 },
    },
    {
      name: 'two edits heard out of order still end at the later one',
      ops: [e3, e2],
      expected: { body: 'hello!', edited: true, deleted: undefined, version: 3 },
    },
    {
      name: 'an edit heard twice changes nothing the second time',
      ops: [e2, e3, e2, e3],
      expected: { body: 'hello!', edited: true, deleted: undefined, version: 3 },
    },
    {
      name: 'a delete empties the body and leaves a tombstone',
      ops: [e2, d4],
      expected: { body: '', edited: undefined, deleted: true, version: 4 },
    },
    {
      name: 'a delete then an edit stays deleted',
      ops: [d4, e5],
      expected: { body: '', edited: undefined, deleted: true, version: 5 },
    },
    {
      name: 'a delete then an older edit heard late stays deleted',
      ops: [d4, e3],
      expected: { body: '', edited: undefined, deleted: true, version: 4 },
    },
    {
      name: 'a delete heard twice is one delete',
      ops: [d4, d4],
      expected: { body: '', edited: undefined, deleted: true, version: 4 },
    },
    {
      name: 'an edit heard before the original is known is applied when it arrives',
      ops: [e2],
      arrivesAfter: 1,
      expected: { body: 'hello', edited: true, deleted: undefined, version: 2 },
    },
    {
      name: 'edits heard before the original arrives, out of order, end at the later one',
      ops: [e3, e2],
      arrivesAfter: 2,
      expected: { body: 'hello!', edited: true, deleted: undefined, version: 3 },
    },
    {
      name: 'a delete heard before the original arrives leaves it a tombstone',
      ops: [e2, d4],
      arrivesAfter: 2,
      expected: { body: '', edited: undefined, deleted: true, version: 4 },
    },
    {
      name: 'a delete then an edit, both heard before the original arrives, leave a tombstone',
      ops: [d4, e5],
      arrivesAfter: 2,
      expected: { body: '', edited: undefined, deleted: true, version: 5 },
    },
    {
      name: 'an edit whose body a later delete erased (read from a page) says deleted',
      ops: [{ ...e3, body: '', deleted: true }],
      expected: { body: '', edited: undefined, deleted: true, version: 3 },
    },
    {
      name: 'an edit heard before the original and another after it both count',
      ops: [e2, e3],
      arrivesAfter: 1,
      expected: { body: 'hello!', edited: true, deleted: undefined, version: 3 },
    },
  ];
  for (const { name, ops, arrivesAfter, expected } of cases) {
    it(name, () => {
      expect(afterOps(ops, arrivesAfter)).toEqual(expected);
    });
  }
});

describe('a copy of a message put over the one this device holds', () => {
  const edited: SentMessage = { ...original('hello'), edited: true, version: 2 };

  it('keeps the newer state when an older copy (a page read before the edit) arrives after it', () => {
    expect(mergeCopy(edited, original())).toMatchObject({
      body: 'hello',
      edited: true,
      version: 2,
    });
  });

  it('takes the newer state when it arrives after an older one', () => {
    expect(mergeCopy(original(), edited)).toMatchObject({
      body: 'hello',
      edited: true,
      version: 2,
    });
  });

  it('never brings a deleted message back, whatever the copy says', () => {
    const tombstone: SentMessage = { ...original(''), deleted: true, version: 4 };
    expect(mergeCopy(tombstone, edited)).toMatchObject({ body: '', deleted: true });
  });

  it('keeps the edit typed here, and its refusal, over a copy from the server', () => {
    const pending: LocalMessage = {
      ...original(),
      status: 'pending',
      order: 7,
      createdAt: 1,
      pendingOp: { kind: 'edit', id: 'op', key: 9, body: 'typed here' },
      opError: { code: 'not_found', reason: 'gone' },
    };
    const merged = mergeCopy(pending, original());
    expect(merged).toMatchObject({
      status: 'sent',
      pendingOp: pending.pendingOp,
      opError: pending.opError,
    });
    expect(shown(merged)).toEqual({
      body: 'typed here',
      edited: true,
      deleted: false,
      changing: true,
    });
  });
});

describe('how a message is shown', () => {
  it('shows a delete typed here at once, with no body', () => {
    const message: SentMessage = { ...original(), pendingOp: { kind: 'delete', id: 'op', key: 3 } };
    expect(shown(message)).toEqual({ body: '', edited: false, deleted: true, changing: true });
  });

  it('shows an untouched message as it is', () => {
    expect(shown(original())).toEqual({
      body: 'helo',
      edited: false,
      deleted: false,
      changing: false,
    });
  });
});
