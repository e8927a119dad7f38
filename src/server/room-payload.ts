import type { z } from 'zod/mini';
import { describeIssue, fail } from './wire.ts';

/**
 * The refusal of a payload about one room that failed its schema. As for `send`: a string
 * that is not a room id is `invalid_room`; any other wrong shape (no room, a room that is
 * not a string, a bad field beside it) `invalid_payload`.
 */
export function roomPayloadRefusal(error: z.core.$ZodError): ReturnType<typeof fail> {
  const badRoomId = error.issues.some(
    (issue) => issue.path[0] === 'room' && issue.code !== 'invalid_type',
  );
  return fail(badRoomId ? 'invalid_room' : 'invalid_payload', describeIssue(error));
}
