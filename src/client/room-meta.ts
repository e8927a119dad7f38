import type { RoomMeta } from './types.ts';

/** Cursors heard for a room: from the user's devices, the server, or the other members. */
export type CursorPatch = Partial<Pick<RoomMeta, (typeof CURSORS)[number]>>;

const CURSORS = [
  'read',
  'unreadFloor',
  'readAcked',
  'deliveredAcked',
  'othersDelivered',
  'othersRead',
] as const;

/** Messages above this seq (of others) are unread: the read cursor, or the newcomer's floor. */
export function unreadAfter(meta: RoomMeta): number {
  return Math.max(meta.read, meta.unreadFloor);
}

/**
 * The entry with every cursor of `patch` that is higher: a cursor never moves back, and
 * hearing one twice, late, or from a device that is behind changes nothing. Answers
 * `meta` itself when nothing moved, so callers can skip the write and the render.
 */
export function raiseCursors(meta: RoomMeta, patch: CursorPatch): RoomMeta {
  let raised: RoomMeta | null = null;
  for (const cursor of CURSORS) {
    const value = patch[cursor];
    if (value !== undefined && value > (raised ?? meta)[cursor]) {
      raised ??= { ...meta };
      raised[cursor] = value;
    }
  }
  return raised ?? meta;
}

/**
 * What is due to the server for a room: the user's read cursor, and how far the device
 * holds (`delivered`, the room's cursor), when either is above what the server has
 * acknowledged; null when nothing is.
 */
export function dueReceipt(
  meta: RoomMeta,
  delivered: number,
): { delivered: number; read: number } | null {
  // Read implies held: a cursor read on another device counts as delivered here too.
  const held = Math.max(delivered, meta.read);
  if (held <= meta.deliveredAcked && meta.read <= meta.readAcked) return null;
  return { delivered: held, read: meta.read };
}
