import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { planBatch } from '../../src/client/batch-plan.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import { shown } from '../../src/client/message-state.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import { isOp, type LogEntry } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { allSent, deviceName, openDevice, type TestDevice, waitFor } from '../support/engine.ts';
import { emitRaw, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/** A room as the user sees it: each message's shown body, and whether edited or deleted. */
function seen(messages: readonly LocalMessage[]) {
  return messages.map((message) => {
    const { body, edited, deleted } = shown(message);
    return { body, edited, deleted };
  });
}

function byBody(device: TestDevice, body: string): LocalMessage {
  const message = device.engine.room('lobby').messages.find((m) => m.body === body);
  if (!message) throw new Error(`no message "${body}"`);
  return message;
}

describe('editing and deleting your own messages', () => {
  const cleanups = cleanupsAfterEach();

  async function server() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = `${dir.path}/ferry.db`;
    const started = await startTestServer({ dbPath });
    cleanups.push(() => started.stop());
    return { ...started, dbPath };
  }

  async function device(url: string, dbName: string, name?: string, online = true) {
    const opened = await openDevice(url, dbName, { name, room: 'lobby', online });
    cleanups.push(() => opened.engine.destroy());
    return opened;
  }

  it('keeps edits and deletes typed offline across a reload, then every device converges and the server stores each operation once', async () => {
    const { url, store } = await server();
    const aliceDb = deviceName('alice');
    const alice = await device(url, aliceDb, 'alice');
    const bob = await device(url, deviceName('bob'), 'bob');
    for (const body of ['helo', 'regret', 'kept']) await alice.engine.send('lobby', body);
    await waitFor('bob to see the three', () => bob.engine.room('lobby').messages.length === 3);

    alice.connectivity.set(false);
    await waitFor('alice offline', () => alice.engine.connection.status === 'offline');
    const [helo, regret] = [byBody(alice, 'helo'), byBody(alice, 'regret')];
    await alice.engine.edit('lobby', helo.id, 'hello');
    await alice.engine.edit('lobby', helo.id, 'hello!');
    await alice.engine.deleteMessage('lobby', regret.id);
    const typo = await alice.engine.send('lobby', 'tpyo');
    await alice.engine.edit('lobby', typo.id, 'typo');
    const never = await alice.engine.send('lobby', 'never sent');
    await alice.engine.deleteMessage('lobby', never.id);
    const expected = [
      { body: 'hello!', edited: true, deleted: false },
      { body: '', edited: false, deleted: true },
      { body: 'kept', edited: false, deleted: false },
      { body: 'typo', edited: false, deleted: false },
    ];
    expect(seen(alice.engine.room('lobby').messages)).toEqual(expected);
    // One edit (the second folded into the first), one delete, one message.
    expect(alice.engine.outboxCount).toBe(3);

    await alice.engine.destroy(); // the reload, still offline
    const reloaded = await device(url, aliceDb, undefined, false);
    expect(seen(reloaded.engine.room('lobby').messages)).toEqual(expected);
    expect(reloaded.engine.outboxCount).toBe(3);

    reloaded.connectivity.set(true);
    await waitFor('the outbox to drain', () => reloaded.engine.outboxCount === 0);
    await waitFor('bob to converge', () => sameView(bob.engine.room('lobby').messages, expected));
    const late = await device(url, deviceName('carol'), 'carol');
    await waitFor('a device that opens the room afterwards to see the same', () =>
      sameView(late.engine.room('lobby').messages, expected),
    );
    expect(seen(reloaded.engine.room('lobby').messages)).toEqual(expected);

    const log = await store.pageAfter('lobby', 0, 100);
    expect(log.map(describeEntry)).toEqual([
      'message hello! edited',
      'message (deleted)',
      'message kept',
      'edit hello!',
      'delete',
      'message typo',
    ]);
    expect(log.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const everything = JSON.stringify(log);
    for (const gone of ['regret', 'tpyo', 'never sent']) expect(everything).not.toContain(gone);
  });

  it('folds an edit or delete queued behind a message the server refuses into it: the failed message shows the new text, a retry sends it, a deleted one is gone', async () => {
    const { url, store } = await server();
    const dbName = deviceName('alice');
    const alice = await device(url, dbName, 'alice', false);
    const tooLong = await alice.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    const regretted = await alice.engine.send('lobby', 'y'.repeat(MAX_BODY_CHARS + 1));
    // Another tab of the profile took both off the outbox, as a sender does before sending:
    // they may be on their way, so an edit or delete cannot change them in place.
    const otherTab = await LocalStore.open(dbName);
    await otherTab.claimBatch(0, 10, (candidates) =>
      planBatch(candidates, { maxMessages: 10, maxBytes: 40_000 }),
    );
    otherTab.close();
    await alice.engine.edit('lobby', tooLong.id, 'short enough now');
    await alice.engine.deleteMessage('lobby', regretted.id);
    expect(alice.engine.outboxCount).toBe(4);

    alice.connectivity.set(true);
    await waitFor('the refusal to settle', () => alice.engine.room('lobby').messages.length === 1);
    await waitFor('the outbox to drain', () => alice.engine.outboxCount === 0);
    const [failed] = alice.engine.room('lobby').messages;
    expect(failed).toMatchObject({
      id: tooLong.id,
      status: 'failed',
      body: 'short enough now',
      error: { code: 'body_too_long' },
    });
    expect(failed?.pendingOp).toBeUndefined();
    expect(failed?.opError).toBeUndefined();

    await alice.engine.retry('lobby', tooLong.id);
    await waitFor('the retry to be stored', () => alice.engine.outboxCount === 0);
    expect((await store.pageAfter('lobby', 0, 10)).map(describeEntry)).toEqual([
      'message short enough now',
    ]);
  });

  it('shows, on the message, why the server refused an edit of a message it does not hold', async () => {
    const { url, dbPath } = await server();
    const alice = await device(url, deviceName('alice'), 'alice');
    await alice.engine.send('lobby', 'mine');
    await waitFor('it to be stored', () => allSent(alice.engine.room('lobby').messages));
    const [message] = alice.engine.room('lobby').messages;
    // The server's database restored from a backup older than the message.
    const db = new Database(dbPath);
    db.prepare('DELETE FROM messages WHERE id = ?').run(message?.id);
    db.close();

    await alice.engine.edit('lobby', message?.id ?? '', 'mine, edited');
    await waitFor('the refusal to show', () =>
      Boolean(alice.engine.room('lobby').messages[0]?.opError),
    );
    const [refused] = alice.engine.room('lobby').messages;
    expect(refused).toMatchObject({
      status: 'sent',
      body: 'mine',
      opError: { code: 'not_found', reason: 'there is no such message in this room' },
    });
    expect(refused?.pendingOp).toBeUndefined();
    expect(alice.engine.outboxCount).toBe(0);
  });

  it("refuses an edit or delete of another member's message, and changes nothing", async () => {
    const { url, store } = await server();
    const alice = await device(url, deviceName('alice'), 'alice');
    await alice.engine.send('lobby', 'mine');
    await waitFor('it to be stored', () => alice.engine.outboxCount === 0);
    const [message] = alice.engine.room('lobby').messages;
    const mallory = await signUp(url, 'mallory');
    const socket = await rawClient(url, { token: mallory.token });
    cleanups.push(() => void socket.disconnect());
    await emitRaw(socket, 'join', { room: 'lobby' });
    const ack = await emitRaw(socket, 'send', {
      room: 'lobby',
      messages: [
        { id: crypto.randomUUID(), kind: 'edit', target: message?.id, newBody: 'pwned' },
        { id: crypto.randomUUID(), kind: 'delete', target: message?.id },
        { id: crypto.randomUUID(), kind: 'delete', target: crypto.randomUUID() },
      ],
    });
    expect(ack).toMatchObject({
      ok: true,
      results: [
        { status: 'rejected', code: 'not_author' },
        { status: 'rejected', code: 'not_author' },
        { status: 'rejected', code: 'not_found' },
      ],
    });
    expect((await store.pageAfter('lobby', 0, 10)).map(describeEntry)).toEqual(['message mine']);
    await expect(alice.engine.edit('lobby', 'not-a-message', 'x')).rejects.toThrow(/no such/);
  });
});

function sameView(messages: readonly LocalMessage[], expected: ReturnType<typeof seen>): boolean {
  return JSON.stringify(seen(messages)) === JSON.stringify(expected);
}

function describeEntry(entry: LogEntry): string {
  if (isOp(entry)) return entry.kind === 'edit' ? `edit ${entry.body}` : 'delete';
  if (entry.deleted) return 'message (deleted)';
  return `message ${entry.body}${entry.edited ? ' edited' : ''}`;
}
