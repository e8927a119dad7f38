// One account flooding a Ferry server every way at once, in a process of its own so that
// the test measuring the server is not slowed by the flood's own work. Run it as
//   node --import tsx test/support/abuser.ts <url> <token> <milliseconds>
// It prints one JSON line: how each kind of request was answered.
import { newMessageId } from '../../src/client/ids.ts';
import { emitRaw, type RawSocket, rawClient, sendBatch } from './raw-client.ts';
import { RawWebSocket } from './raw-websocket.ts';
import { waitFor } from './wait.ts';

/** Sockets the abuser tries to open on its one token. */
const SOCKETS_TRIED = 40;
/** Sockets that stop reading while they pipeline history pages. */
const NON_READERS = 3;
/** Requests a flooding socket has in flight at once. */
const WAVE = 50;

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
await Promise.all(
  sockets.map((socket, index) => {
    if (index % 3 === 0) {
      return flood(socket, 'join', () => emitRaw(socket, 'join', { room: `r${room++}` }));
    }
    if (index % 3 === 1)
      return flood(socket, 'createRoom', () => emitRaw(socket, 'createRoom', {}));
    return flood(socket, 'send', () => sendBatch(socket, 'spam', spam()));
  }),
);
clearInterval(pipelining);

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
