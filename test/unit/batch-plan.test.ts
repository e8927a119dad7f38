// How the head of the outbox is cut into `send` batches, and how many bytes a message
// takes on the wire.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BatchCaps,
  type BatchPlan,
  planBatch,
  utf8Length,
  wireBytes,
} from '../../src/client/batch-plan.ts';
import type { OutboxEntry } from '../../src/client/types.ts';

/** What the batch really carries for one message: its JSON as UTF-8, and a comma. */
function realWireBytes(message: Pick<OutboxEntry, 'id' | 'body'>): number {
  return Buffer.byteLength(JSON.stringify({ id: message.id, body: message.body }), 'utf8') + 1;
}

/** An entry whose message takes exactly `bytes` on the wire (ASCII body). */
function entryOf(key: number, room: string, bytes: number): OutboxEntry {
  const id = `m${key}`;
  const body = 'x'.repeat(bytes - wireBytes({ id, body: '' }));
  return { key, id, room, body, author: 'Ada', createdAt: key };
}

describe('wireBytes', () => {
  const bodies: [string, string][] = [
    ['plain ASCII', 'hello, world'],
    ['an empty body', ''],
    ['quotes and backslashes, escaped as two bytes', 'say "hi" \\ bye'],
    ['control characters, escaped as \\uXXXX (six bytes each)', '\u0000\u0001\u001f\u007f'],
    ['newlines and tabs, escaped as two bytes', 'a\nb\tc\rd\be\f'],
    ['a lone high surrogate, escaped as six bytes', 'before \ud83d after'],
    ['a lone low surrogate, escaped as six bytes', '\ude00 alone'],
    ['a high surrogate at the very end', 'end \ud83d'],
    ['two high surrogates in a row', '\ud83d\ud83d\ude00'],
    ['emoji, one surrogate pair each (four bytes)', '🚢⛴️👩‍👩‍👧‍👦'],
    ['CJK, three bytes each', '渡し船で行こう'],
    ['Latin accents, two bytes each', 'Ferry à vapeur, über, ñ'],
    ['U+2028 and U+2029, which JSON leaves as they are', '\u2028\u2029'],
  ];

  it.each(bodies)('counts the real UTF-8 JSON bytes of %s', (_name, body) => {
    const message = { id: '6f9619ff-8b86-d011-b42d-00c04fc964ff', body };
    expect(wireBytes(message)).toBe(realWireBytes(message));
  });

  it('counts the real UTF-8 JSON bytes of any UTF-16 string, well-formed or not', () => {
    const codeUnit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
      fc.integer({ min: 0, max: 0x1f }).map((unit) => String.fromCharCode(unit)),
      fc.constantFrom('"', '\\', 'a', '🚢', '漢'),
    );
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 40 }), fc.string(), (body, id) => {
        expect(wireBytes({ id, body })).toBe(realWireBytes({ id, body }));
      }),
      { numRuns: 300 },
    );
  });
});

describe('utf8Length', () => {
  it('equals Buffer.byteLength for any well-formed string (all code points, emoji included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('planBatch', () => {
  const caps: BatchCaps = { maxMessages: 3, maxBytes: 1_000 };
  const small = (key: number, room = 'lobby') => entryOf(key, room, 100);

  function batch(entries: OutboxEntry[]): BatchPlan {
    return { kind: 'batch', entries, bytes: entries.reduce((sum, e) => sum + wireBytes(e), 0) };
  }

  const cases: {
    name: string;
    candidates: OutboxEntry[];
    caps?: BatchCaps;
    fillBytes?: number;
    expected: (candidates: OutboxEntry[]) => BatchPlan;
  }[] = [
    {
      name: 'answers empty when nothing is queued',
      candidates: [],
      expected: () => ({ kind: 'empty' }),
    },
    {
      name: 'puts consecutive entries of one room in one batch, with their wire bytes',
      candidates: [small(1), small(2)],
      expected: (all) => batch(all),
    },
    {
      name: 'stops at a change of room',
      candidates: [small(1), small(2), small(3, 'kitchen'), small(4)],
      expected: (all) => batch(all.slice(0, 2)),
    },
    {
      name: 'stops at maxMessages',
      candidates: [small(1), small(2), small(3), small(4)],
      expected: (all) => batch(all.slice(0, 3)),
    },
    {
      name: 'stops before the entry that would cross the byte cap',
      candidates: [entryOf(1, 'lobby', 600), entryOf(2, 'lobby', 300), entryOf(3, 'lobby', 200)],
      expected: (all) => batch(all.slice(0, 2)),
    },
    {
      name: 'takes an entry that fills the byte cap exactly',
      candidates: [entryOf(1, 'lobby', 600), entryOf(2, 'lobby', 400), small(3)],
      expected: (all) => batch(all.slice(0, 2)),
    },
    {
      name: 'stops filling at fillBytes',
      candidates: [small(1), small(2), small(3)],
      fillBytes: 250,
      expected: (all) => batch(all.slice(0, 2)),
    },
    {
      name: 'never fills past caps.maxBytes, even when fillBytes is larger',
      candidates: [entryOf(1, 'lobby', 600), entryOf(2, 'lobby', 500)],
      fillBytes: 5_000,
      expected: (all) => batch(all.slice(0, 1)),
    },
    {
      name: 'sends the first entry alone when it is over fillBytes but within caps.maxBytes',
      candidates: [entryOf(1, 'lobby', 900), small(2)],
      fillBytes: 200,
      expected: (all) => batch(all.slice(0, 1)),
    },
    {
      name: 'sends a first entry of exactly caps.maxBytes',
      candidates: [entryOf(1, 'lobby', 1_000)],
      expected: (all) => batch(all),
    },
    {
      name: 'answers oversize for a first entry over caps.maxBytes',
      candidates: [entryOf(1, 'lobby', 1_001), small(2)],
      expected: ([first]) => ({ kind: 'oversize', entry: first as OutboxEntry, bytes: 1_001 }),
    },
    {
      name: 'leaves an oversize entry behind the batch for the next plan',
      candidates: [small(1), entryOf(2, 'lobby', 5_000), small(3)],
      expected: (all) => batch(all.slice(0, 1)),
    },
  ];

  it.each(cases)('$name', ({ candidates, expected, fillBytes, ...rest }) => {
    expect(planBatch(candidates, rest.caps ?? caps, fillBytes)).toEqual(expected(candidates));
  });

  it('counts a body by its escaped bytes, not its length: control characters fill a batch', () => {
    // 100 NULs are 100 UTF-16 units but 600 bytes on the wire.
    const nul = { ...small(1), body: '\u0000'.repeat(100) };
    const plan = planBatch([nul, { ...nul, key: 2, id: 'm2' }], caps);
    expect(plan).toEqual(batch([nul]));
    expect(plan.kind === 'batch' && plan.bytes).toBe(realWireBytes(nul));
  });
});
