import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod/mini';
import {
  checkBody,
  createRoomRequestSchema,
  historyRequestSchema,
  joinRequestSchema,
  leaveRequestSchema,
  outgoingMessageSchema,
  pingRequestSchema,
  receiptRequestSchema,
  sendBatchSchema,
} from '../../src/shared/schemas.ts';
import { bodies, deviceName, openDevice, type TestDevice, waitFor } from '../support/engine.ts';
import { emitNoAck, emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

const FUZZ_RUNS = 10_000;

/** Events with the schema that would accept a payload; `send` is checked message by message. */
const VALIDATORS: Record<string, z.ZodMiniType | null> = {
  send: null,
  join: joinRequestSchema,
  history: historyRequestSchema,
  ping: pingRequestSchema,
  createRoom: createRoomRequestSchema,
  receipt: receiptRequestSchema,
  leave: leaveRequestSchema,
};

const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'room',
  'messages',
  'id',
  'body',
  'after',
  'before',
  'limit',
  'invite',
  'delivered',
  'read',
  'name',
  'author',
  'toString',
);

/** Deeply nested arrays and objects: a parser's stack, not its patience. */
const deepNesting = fc.integer({ min: 50, max: 400 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { nested: value };
  return value;
});

/** Strings up to ~48 KB on the wire, under the packet limit, so each one gets an answer. */
const bigString = fc.string({ unit: 'binary', maxLength: 8_000 });

/** Payloads shaped almost like the real ones, with one thing wrong. */
const nearMiss = fc.record(
  {
    room: fc.oneof(
      fc.string(),
      fc.constant('lobby'),
      fc.integer(),
      bigString,
      fc.constant('../../etc'),
    ),
    messages: fc.oneof(
      fc.array(
        fc.record({
          id: fc.oneof(fc.uuid(), fc.string(), fc.integer()),
          body: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        }),
        { maxLength: 120 },
      ),
      fc.string(),
      fc.constant(null),
    ),
    after: fc.oneof(fc.integer(), fc.double(), fc.string()),
    before: fc.oneof(fc.integer({ min: -5, max: -1 }), fc.string()),
    limit: fc.oneof(fc.integer({ min: 501, max: 1e9 }), fc.integer({ max: 0 }), fc.string()),
    invite: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
    sentAt: fc.oneof(fc.string(), fc.constant(null)),
    delivered: fc.oneof(fc.integer({ min: -5, max: -1 }), fc.double(), fc.string()),
    read: fc.oneof(fc.constant(2 ** 53), fc.constant(null), fc.string()),
    name: fc.oneof(
      fc.constant(''),
      fc.constant('  \t '),
      fc.constant('x'.repeat(65)),
      fc.string().map((name) => `${name}\u202e`),
      fc.integer(),
    ),
  },
  { requiredKeys: [] },
);

const payload = fc.oneof(
  fc.anything({
    maxDepth: 4,
    withObjectString: true,
    withNullPrototype: true,
    key: fc.oneof(fc.string(), hostileKey),
  }),
  fc.dictionary(hostileKey, fc.anything({ maxDepth: 2 })),
  nearMiss,
  deepNesting,
  bigString,
);

/** What the server receives: socket.io sends JSON, so `undefined` members vanish. */
function onTheWire(value: unknown): unknown {
  const json = JSON.stringify(value);
  return json === undefined ? undefined : JSON.parse(json);
}

/**
 * A payload that would be stored or acted on (as it arrives) is not hostile: leave it out.
 * A `send` whose envelope is fine but whose every message is bad stays in: its answer is a
 * per-message rejection.
 */
function isAcceptable(event: string, sent: unknown): boolean {
  const value = onTheWire(sent);
  const validator = VALIDATORS[event];
  if (validator) return validator.safeParse(value).success;
  const envelope = sendBatchSchema.safeParse(value);
  if (!envelope.success) return false;
  return envelope.data.messages.some((raw) => {
    const message = outgoingMessageSchema.safeParse(raw);
    return message.success && checkBody(message.data.body) === null;
  });
}

/** An error answer: a refusal of the event, or of every message in a batch. */
function isErrorAnswer(ack: unknown): boolean {
  const answer = ack as {
    ok?: unknown;
    error?: { code?: unknown };
    results?: { status?: unknown }[];
  };
  if (answer.ok === false) return typeof answer.error?.code === 'string';
  return (
    Array.isArray(answer.results) && answer.results.every((result) => result.status === 'rejected')
  );
}

function countRows(path: string): Record<string, number> {
  const file = new Database(path, { readonly: true });
  const tables = ['messages', 'rooms', 'users', 'sessions', 'private_rooms', 'room_members'];
  const counts = Object.fromEntries(
    tables.map((table) => [
      table,
      (file.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
    ]),
  );
  // The well-behaved client's device may say how far it has read: only the fuzzer's count.
  counts.fuzzer_cursors = (
    file
      .prepare(
        "SELECT count(*) AS n FROM read_cursors JOIN users ON users.id = user_id WHERE users.name = 'fuzzer'",
      )
      .get() as { n: number }
  ).n;
  file.close();
  return counts;
}

describe('fuzzing every client-to-server event', () => {
  const dir = tempDir();
  const dbPath = `${dir.path}/ferry.db`;
  let server: TestServer;
  let fuzzer: RawSocket;
  let chatter: TestDevice;
  beforeAll(async () => {
    server = await startTestServer({ dbPath });
    fuzzer = await rawClient(server.url, { token: (await signUp(server.url, 'fuzzer')).token });
    chatter = await openDevice(server.url, deviceName('chatter'), {
      name: 'chatter',
      room: 'calm',
    });
    await waitFor('the chatter to connect', () => chatter.engine.connection.status === 'connected');
  });
  afterAll(async () => {
    fuzzer.close();
    await chatter.engine.destroy();
    await server.stop();
    dir.dispose();
  });

  it(`answers ${FUZZ_RUNS.toLocaleString('en')} hostile payloads with errors, changes nothing, and keeps serving a well-behaved client`, async () => {
    const before = countRows(dbPath);
    const chat: string[] = [];
    let answered = 0;
    let unanswered = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(VALIDATORS)),
        payload,
        fc.boolean(),
        async (event, value, withAck) => {
          fc.pre(!isAcceptable(event, value));
          if (!withAck) {
            emitNoAck(fuzzer, event, value);
            unanswered += 1;
            return;
          }
          const ack = await emitRaw(fuzzer, event, value);
          answered += 1;
          expect(isErrorAnswer(ack), JSON.stringify(ack)).toBe(true);
          if (answered % 500 === 0) {
            const body = `calm message ${chat.length}`;
            chat.push(body);
            await chatter.engine.send('calm', body);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );

    console.log(
      `fuzz: ${answered} payloads answered with an error ack, ${unanswered} sent without an ack`,
    );
    expect(fuzzer.connected).toBe(true);
    expect(await emitRaw(fuzzer, 'ping', { sentAt: 1 })).toMatchObject({ ok: true });
    await waitFor('the chatter to flush', () => chatter.engine.outboxCount === 0);
    const calm = await server.store.pageAfter('calm', 0, 100);
    expect(bodies(calm)).toEqual(chat);
    const after = countRows(dbPath);
    // The well-behaved client's messages (and their room) are the only change.
    expect({
      ...after,
      messages: (after.messages ?? 0) - chat.length,
      rooms: (after.rooms ?? 0) - 1,
    }).toEqual(before);
  });
});
