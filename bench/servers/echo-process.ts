// The bare socket.io echo server in its own process (see spawn.ts).
import { startEchoServer } from './echo-server.ts';
import { memorySample, reply, serveRequests } from './protocol.ts';

const server = await startEchoServer(0);
serveRequests((request) => {
  if (request.type === 'memory') return { type: 'memory', id: request.id, sample: memorySample() };
  throw new Error(`the echo server cannot ${request.type}`);
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
reply({ type: 'ready', port: server.port });
