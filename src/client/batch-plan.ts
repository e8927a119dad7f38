import { MAX_BATCH_BODY_BYTES, MAX_BATCH_MESSAGES } from '../shared/limits.ts';
import type { OutgoingItem } from '../shared/protocol.ts';
import type { OutboxEntry } from './types.ts';

/** Caps for one `send` batch. */
export interface BatchCaps {
  maxMessages: number;
  /** Most bytes the batch's messages may take on the wire, as UTF-8 JSON. */
  maxBytes: number;
}

export const DEFAULT_BATCH_CAPS: BatchCaps = {
  maxMessages: MAX_BATCH_MESSAGES,
  maxBytes: MAX_BATCH_BODY_BYTES,
};

/**
 * What to do with the head of the outbox:
 * - `batch`: send these entries (consecutive, one room, within the caps) as one batch;
 * - `oversize`: this entry alone is over the caps, so no batch can ever carry it: it fails
 *   on the device, and the outbox moves on;
 * - `empty`: nothing is queued after the given key.
 */
export type BatchPlan =
  | { kind: 'batch'; entries: OutboxEntry[]; bytes: number }
  | { kind: 'oversize'; entry: OutboxEntry; bytes: number }
  | { kind: 'empty' };

/**
 * Plans the next batch from entries in outbox order. Sizes are the bytes each message
 * takes on the wire: JSON escapes control characters and lone surrogates as six bytes
 * each, so a body's length times three is no bound. The batch stops filling at
 * `fillBytes` (a slow link wants small batches), but only an entry over `caps.maxBytes`
 * is oversize: the first entry always goes, alone if need be.
 */
export function planBatch(
  candidates: readonly OutboxEntry[],
  caps: BatchCaps,
  fillBytes = caps.maxBytes,
): BatchPlan {
  const first = candidates[0];
  if (!first) return { kind: 'empty' };
  const firstBytes = wireBytes(first);
  if (firstBytes > caps.maxBytes) return { kind: 'oversize', entry: first, bytes: firstBytes };
  const limit = Math.min(fillBytes, caps.maxBytes);
  const entries = [first];
  let bytes = firstBytes;
  for (const entry of candidates.slice(1)) {
    if (entry.room !== first.room || entries.length >= caps.maxMessages) break;
    const size = wireBytes(entry);
    if (bytes + size > limit) break;
    entries.push(entry);
    bytes += size;
  }
  return { kind: 'batch', entries, bytes };
}

/** An outbox entry as a `send` batch carries it: a message, an edit or a delete. */
export function outgoingItemOf(entry: Pick<OutboxEntry, 'id' | 'body' | 'op'>): OutgoingItem {
  const { id, body, op } = entry;
  if (op?.kind === 'edit') return { id, kind: 'edit', target: op.target, newBody: body };
  if (op?.kind === 'delete') return { id, kind: 'delete', target: op.target };
  return { id, body };
}

/** The UTF-8 bytes of the item as the batch carries it: `{"id":…,"body":…},`. */
export function wireBytes(entry: Pick<OutboxEntry, 'id' | 'body' | 'op'>): number {
  return utf8Length(JSON.stringify(outgoingItemOf(entry))) + 1;
}

/**
 * UTF-8 length of a well-formed string (JSON.stringify output has no lone surrogates:
 * it escapes them), without allocating the encoded bytes.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
