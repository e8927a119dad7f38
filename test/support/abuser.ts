// One account flooding a Ferry server every way at once, in a process of its own so that
// the test measuring the server is not slowed by the flood's own work. Run it as
//   node --import tsx test/support/abuser.ts <url> <token> <milliseconds>
// It prints one JSON line: how each kind of request was answered.
import { Agent } from 'node:http';
import { newMessageId } from '../../src/client/ids.ts';
import { emitRaw, newSignupKey, type RawSocket, rawClient, sendBatch } from './raw-client.ts';
import { openPost } from './raw-http.ts';
import { RawWebSocket } from './raw-websocket.ts';
import { waitFor } from './wait.ts';

/** Sockets the abuser tries to open on its one token. */
const SOCKETS_TRIED = 40;
/** Sockets that stop reading while they pipeline history pages. */
const NON_READERS = 3;
/** Requests a flooding socket has in flight at once, and posts a flood has. */
const WAVE = 50;
/**
 * Where the made-up tokens come from: another loopback address, so that the server sees
 * another client than the soak's well-behaved user, who posts from 127.0.0.1.
 */
const BAD_TOKEN_ADDRESS = '127.0.0.2';
/** Half of a body just under the packet limit that is not JSON: read whole, then refused 400. */
const HALF_BODY = 'x'.repeat(30_000);
/** How long a heavy post keeps its upload half done, holding the server's buffer. */
const UPLOAD_PAUSE_MS = 200;

const [url, token, durationArg] = process.argv.slice(2);
if (!url || !token || !durationArg) throw new Error('usage: abuser.ts <url> <token> <ms>');
const deadline = Date.now() + Number(durationArg);
const tally: Record<string, number> = {};
const count = (what: string) => {
  tally[what] = (tally[what] ?? 0) + 1;
};

/** The code an ack refused with, 'ok', or 'no answer' (a dropped socket, a timeout). */
function outcome(answer: PromiseSettledResult<unknown>): string {
  if (answer.status === 'rejected') return 'no answer';
  const ack = answer.value as { ok?: boolean; error?: { code?: string } };
  return ack.ok ? 'ok' : (ack.error?.code ?? 'malformed');
}

/** The status and code a post was answered with, or 'no answer'. */
function postOutcome(answer: PromiseSettledResult<{ status: number; body: unknown }>): string {
  if (answer.status === 'rejected') return 'no answer';
  const { status, body } = answer.value;
  return `${status} ${(body as { error?: { code?: string } } | null)?.error?.code ?? 'ok'}`;
}

/** Posts waves of `post` until the deadline. */
async function floodPosts(what: string, post: () => Promise<{ status: number; body: unknown }>) {
  while (Date.now() < deadline) {
    const answers = await Promise.allSettled(Array.from({ length: WAVE }, post));
    for (const answer of answers) count(`${what} ${postOutcome(answer)}`);
  }
}

/** Sends waves of `request` until the deadline, or until the socket is dropped. */
async function flood(socket: RawSocket, what: string, request: () => Promise<unknown>) {
  while (Date.now() < deadline && socket.connected) {
    const answers = await Promise.allSettled(Array.from({ length: WAVE }, request));
    for (const answer of answers) count(`${what} ${outcome(answer)}`);
  }
  if (!socket.connected) count(`${what} socket dropped`);
}

// Readers that read nothing, pipelining 2 MB pages ten every 100 ms, and answering the
// heartbeat unasked.
const nonReaders: RawWebSocket[] = [];
for (let i = 0; i < NON_READERS; i++) {
  const reader = await RawWebSocket.open(url, token);
  reader.stopReading();
  nonReaders.push(reader);
}
const pipelining = setInterval(() => {
  for (const reader of nonReaders) {
    for (let i = 0; i < 10 && reader.open; i++) {
      void reader.request('history', { room: 'big', after: 0, limit: 500 });
    }
    reader.pong();
  }
}, 100);

const sockets: RawSocket[] = [];
for (let i = 0; i < SOCKETS_TRIED; i++) {
  try {
    sockets.push(await rawClient(url, { token }));
  } catch (error) {
    count(`socket ${(error as { data?: { code?: string } }).data?.code ?? 'error'}`);
  }
}
count(`sockets open ${sockets.length}`);

let room = 0;
const spam = () => Array.from({ length: 100 }, () => ({ id: newMessageId(), body: 'spam' }));
// Over HTTP: waves of heavy posts on the one token, each pausing halfway through its upload
// to stay in flight, and made-up tokens from another address; on pooled connections, as a
// browser's would be.
const pool = new Agent({ keepAlive: true });
const heavyPost = () => {
  const post = openPost(url, token, { agent: pool });
  post.write(HALF_BODY);
  setTimeout(() => post.end(HALF_BODY), UPLOAD_PAUSE_MS);
  return post.answer;
};
const badTokenPost = () => {
  const post = openPost(url, newSignupKey(), { agent: pool, localAddress: BAD_TOKEN_ADDRESS });
  post.end('{}');
  return post.answer;
};
await Promise.all([
  ...sockets.map((socket, index) => {
    if (index % 3 === 0) {
      return flood(socket, 'join', () => emitRaw(socket, 'join', { room: `r${room++}` }));
    }
    if (index % 3 === 1)
      return flood(socket, 'createRoom', () => emitRaw(socket, 'createRoom', {}));
    return flood(socket, 'send', () => sendBatch(socket, 'spam', spam()));
  }),
  floodPosts('post', heavyPost),
  floodPosts('bad token', badTokenPost),
]);
clearInterval(pipelining);
pool.destroy();

// Reading again, a dropped non-reader takes what piled up and then sees its close.
for (const reader of nonReaders) reader.resumeReading();
await waitFor('the non-readers to be closed', () => nonReaders.every((r) => !r.open), 10_000).then(
  () => count('non-readers all dropped'),
  () => count('non-readers still open'),
);
for (const socket of sockets) socket.close();
for (const reader of nonReaders) reader.close();
console.log(JSON.stringify(tally));
process.exit(0);
