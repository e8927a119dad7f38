// What the cluster's relays recognise in the bytes they forward. Server-to-client WebSocket
// frames are not masked and Ferry turns no compression on, so socket.io's packets can be
// read as they are; a marker split across two chunks goes unseen, which costs a count, not
// a wrong one.

/** A `send` ack: socket.io's `43<id>[{"ok":true,"results":[…`. */
const ACK = Buffer.from('{"ok":true,"results":[');
/** A refusal in an answer: a whole batch's error, or one message's in an ok batch. */
const REFUSAL = /"ok":false,"error":\{"code":"(\w+)"|"status":"rejected","code":"(\w+)"/g;
const REFUSAL_HINT = Buffer.from('"code":"');
/** ioredis writes command names as called: the adapter calls `xadd`. */
const XADD = [Buffer.from('xadd'), Buffer.from('XADD')];
const MESSAGES_EVENT = Buffer.from('"messages"');

/** `send` acks (ok ones) in a chunk going to a device. */
export function countAcks(chunk: Buffer): number {
  let count = 0;
  for (let at = chunk.indexOf(ACK); at !== -1; at = chunk.indexOf(ACK, at + ACK.length)) {
    count += 1;
  }
  return count;
}

/** The error code of every refusal in a chunk going to a device, e.g. `rate_limited`. */
export function refusalCodes(chunk: Buffer): string[] {
  if (!chunk.includes(REFUSAL_HINT)) return [];
  return [...chunk.toString('latin1').matchAll(REFUSAL)].map(
    (match) => match[1] ?? match[2] ?? '?',
  );
}

/** Whether a chunk a node sends Redis publishes a broadcast of messages to the stream. */
export function publishesBroadcast(chunk: Buffer): boolean {
  return XADD.some((marker) => chunk.includes(marker)) && chunk.includes(MESSAGES_EVENT);
}
