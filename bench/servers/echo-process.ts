// The bare socket.io echo server in its own process (see spawn.ts).
import { startEchoServer } from './echo-server.ts';
import { cpuMicros, memorySample, serveRequests } from './protocol.ts';

const server = await startEchoServer(0);
serveRequests((request) => {
  if (request.type === 'memory') return { type: 'memory', id: request.id, sample: memorySample() };
  if (request.type === 'cpu') return { type: 'cpu', id: request.id, micros: cpuMicros() };
  throw new Error(`the echo server cannot ${request.type}`);
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
// The line ServerProcess waits for (it then asks /healthz, which the echo server answers).
console.log(`echo server listening on http://127.0.0.1:${server.port}`);
