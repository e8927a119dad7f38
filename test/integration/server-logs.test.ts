// The server's JSON lines (docs/operations.md, "Logs"): who each line is about, with what
// code, and never a session token, an invite secret or a message body.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { createLogger } from '../../src/server/logger.ts';
import { PROTOCOL_VERSION, type Session } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { type CapturedLog, captureLog, type LogRecord } from '../support/log-capture.ts';
import { emitRaw, type RawSocket, rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServerOptions, tempDir, withAppend } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

/** Bodies no line may ever carry. */
const SECRET_BODY = 'the secret plan is under the old oak';
const OTHER_BODY = 'meet at noon';

describe('server logs', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose every line (trace and up) is kept, and a signed-up alice. */
  async function loggedServer(options: Partial<TestServerOptions> = {}) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const log = captureLog('trace');
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      logger: log.logger,
      ...options,
    });
    cleanups.push(() => server.stop());
    const alice = await signUp(server.url, 'alice');
    return { server, log, alice };
  }

  async function connect(url: string, session: Session): Promise<RawSocket> {
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.close());
    return socket;
  }

  /** The records whose `msg` starts with `prefix`. */
  const withMessage = (log: CapturedLog, prefix: string): LogRecord[] =>
    log.records.filter((record) => record.msg.startsWith(prefix));

  /** No line holds any of `secrets`, in any field. */
  function expectNoneOf(log: CapturedLog, secrets: readonly string[]): void {
    for (const secret of secrets) {
      expect(log.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  }

  it('logs a connection and its disconnect with the userId, the socketId and the reason', async () => {
    const { server, log, alice } = await loggedServer();
    const socket = await connect(server.url, alice);
    const socketId = socket.id;
    socket.disconnect();
    await waitFor('the disconnect to be logged', () => withMessage(log, 'disconnected').length > 0);

    expect(withMessage(log, 'connected')).toEqual([
      expect.objectContaining({ level: 30, userId: alice.userId, socketId }),
    ]);
    expect(withMessage(log, 'disconnected')).toEqual([
      expect.objectContaining({
        userId: alice.userId,
        socketId,
        reason: 'client namespace disconnect',
      }),
    ]);
    expectNoneOf(log, [alice.token]);
  });

  it('logs a refused handshake with its code, and not the token it was offered', async () => {
    const { server, log } = await loggedServer();
    const madeUp = 'a-made-up-token-that-is-long-enough-to-parse';
    await expect(rawClient(server.url, { token: madeUp })).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });

    expect(withMessage(log, 'handshake refused')).toEqual([
      expect.objectContaining({ code: 'unauthorized', address: expect.any(String) }),
    ]);
    expectNoneOf(log, [madeUp]);
  });

  it('logs a rate-limit hold and the batch refused behind it, with the user, the socket and the code', async () => {
    const { server, log, alice } = await loggedServer({
      serverOptions: { messageRate: { capacity: 1, refillPerMinute: 1 } },
    });
    const socket = await connect(server.url, alice);
    const held = { id: newMessageId(), body: OTHER_BODY };
    await sendBatch(socket, 'lobby', [{ id: newMessageId(), body: SECRET_BODY }, held]);
    const behind = await sendBatch(socket, 'lobby', [{ id: newMessageId(), body: SECRET_BODY }]);
    expect(behind.error?.code).toBe('rate_limited');

    const who = { userId: alice.userId, socketId: socket.id };
    expect(withMessage(log, 'rate-limit hold')).toEqual([
      expect.objectContaining({ ...who, room: 'lobby', messageId: held.id, held: 1 }),
    ]);
    expect(withMessage(log, 'batch refused')).toEqual([
      expect.objectContaining({ ...who, code: 'rate_limited' }),
    ]);
    expectNoneOf(log, [alice.token, SECRET_BODY, OTHER_BODY]);
  });

  it('logs messages rejected one by one with their codes, never their bodies', async () => {
    const { server, log, alice } = await loggedServer();
    const socket = await connect(server.url, alice);
    const tooLong = `${SECRET_BODY} `.repeat(1_000);
    await sendBatch(socket, 'lobby', [
      { id: newMessageId(), body: OTHER_BODY },
      { id: newMessageId(), body: tooLong },
      { id: newMessageId(), body: '   ' },
    ]);

    expect(withMessage(log, 'messages rejected')).toEqual([
      expect.objectContaining({
        userId: alice.userId,
        socketId: socket.id,
        codes: ['body_too_long', 'body_empty'],
      }),
    ]);
    expectNoneOf(log, [alice.token, SECRET_BODY, OTHER_BODY]);
  });

  it('logs a batch the store failed to take as an error, with the reason and without the bodies', async () => {
    const { server, log, alice } = await loggedServer({
      wrapStore: (store) =>
        withAppend(store, () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error'))),
    });
    const socket = await connect(server.url, alice);
    const ack = await sendBatch(socket, 'lobby', [{ id: newMessageId(), body: SECRET_BODY }]);
    expect(ack.error?.code).toBe('internal');

    expect(withMessage(log, 'send failed')).toEqual([
      expect.objectContaining({
        level: 50,
        userId: alice.userId,
        socketId: socket.id,
        room: 'lobby',
        err: expect.objectContaining({ message: 'SQLITE_IOERR: disk I/O error' }),
      }),
    ]);
    expectNoneOf(log, [alice.token, SECRET_BODY]);
  });

  it('keeps an invite secret out of the lines of a join', async () => {
    const { server, log, alice } = await loggedServer();
    const owner = await connect(server.url, alice);
    const created = (await emitRaw(owner, 'createRoom', {})) as { room: string; invite: string };
    const bob = await signUp(server.url, 'bob');
    const guest = await connect(server.url, bob);
    expect(
      await emitRaw(guest, 'join', { room: created.room, invite: created.invite }),
    ).toMatchObject({ ok: true });

    expectNoneOf(log, [alice.token, bob.token, created.invite]);
  });

  it('redacts tokens, invite secrets, bodies and Authorization headers that a call site passes by mistake', () => {
    const log = captureLog('info');
    log.logger.info(
      {
        token: 'tok-1',
        session: { token: 'tok-2' },
        invite: 'inv-1',
        message: { body: 'body-1' },
        messages: [{ id: 'm1', body: 'body-2' }],
        req: { headers: { authorization: 'Bearer tok-3' } },
      },
      'careless',
    );
    expectNoneOf(log, ['tok-1', 'tok-2', 'tok-3', 'inv-1', 'body-1', 'body-2']);
    expect(log.records[0]).toMatchObject({ token: '[redacted]', messages: [{ id: 'm1' }] });
  });

  it('writes nothing below FERRY_LOG_LEVEL', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l) => lines.push(l) } });
    logger.info('routine');
    logger.warn('worth a look');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['worth a look']);
  });
});
