// A real Ferry server (HTTP + socket.io + SQLite on disk) in its own process (see spawn.ts):
// the test server, with the budgets lifted and a way to seed its store and weigh its heap.
import { join } from 'node:path';
import { newMessageId } from '../../src/client/ids.ts';
import { createLogger } from '../../src/server/logger.ts';
import type { StoredMessage } from '../../src/shared/protocol.ts';
import { startTestServer, tempDir } from '../../test/support/server.ts';
import { cpuMicros, memorySample, serveRequests } from './protocol.ts';

/**
 * The benchmarks measure throughput, so the per-user and per-address budgets are lifted:
 * every client signs up from 127.0.0.1, and the load test sends faster than a person
 * types. The buckets are still consulted on every batch, so their cost is measured.
 */
const UNLIMITED = { capacity: 1_000_000_000, refillPerMinute: 1_000_000_000 };
/** Seeded messages go in at this many per transaction. */
const SEED_BATCH_MESSAGES = 500;
const SEED_AUTHOR = { id: 'bench-seeder', name: 'seeder' };

const dir = tempDir('ferry-bench-');
const server = await startTestServer({
  dbPath: join(dir.path, 'ferry.db'),
  // Warnings and errors only, on stderr (which the bench prints): stdout is for the listening line.
  logger: createLogger({
    level: 'warn',
    destination: { write: (line) => process.stderr.write(line) },
  }),
  serverOptions: {
    staticDir: process.env.FERRY_STATIC_DIR ?? '',
    // FERRY_METRICS=off, as main.ts reads it: the metrics-overhead benchmark runs one of each.
    metrics: process.env.FERRY_METRICS !== 'off',
    messageRate: UNLIMITED,
    signupRate: UNLIMITED,
  },
});

/** Appends `count` messages to `room` straight into the store (others typing meanwhile). */
async function seed(room: string, count: number): Promise<StoredMessage[]> {
  const stored: StoredMessage[] = [];
  for (let start = 0; start < count; start += SEED_BATCH_MESSAGES) {
    const items = Array.from({ length: Math.min(SEED_BATCH_MESSAGES, count - start) }, (_, i) => ({
      id: newMessageId(),
      body: `missed message ${start + i}: the quick brown fox jumps over the lazy dog`,
    }));
    const outcomes = await server.store.appendBatch(room, SEED_AUTHOR, items, Date.now());
    for (const outcome of outcomes) {
      if (outcome.status === 'accepted' || outcome.status === 'duplicate') {
        stored.push(outcome.message as StoredMessage);
      }
    }
  }
  return stored;
}

serveRequests(async (request) => {
  switch (request.type) {
    case 'memory':
      return { type: 'memory', id: request.id, sample: memorySample() };
    case 'cpu':
      return { type: 'cpu', id: request.id, micros: cpuMicros() };
    case 'seed':
      return { type: 'seeded', id: request.id, messages: await seed(request.room, request.count) };
  }
});
process.on('SIGTERM', () => {
  void server.stop().then(() => {
    dir.dispose();
    process.exit(0);
  });
});
// The line ServerProcess waits for (it then asks /healthz).
console.log(`Ferry bench server listening on ${server.url}`);
