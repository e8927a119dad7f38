import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SendResult } from '../shared/protocol.ts';
import type { CommitStats } from './store/message-store.ts';

/** What became of one message of a batch the server answered (see `ferry_messages_total`). */
export type MessageOutcome = 'accepted' | 'duplicate' | 'rejected' | 'rate_limited';

/**
 * What the server counts for `GET /metrics`. Call sites see only this: with metrics off
 * they get NO_METRICS, whose methods do nothing, so the off switch costs no branch anywhere.
 */
export interface ServerMetrics {
  /** `count` messages of answered batches had `outcome`; `code` says why one was rejected. */
  messages(outcome: MessageOutcome, count: number, code?: string): void;
  /** A `send` batch was refused whole, with `code` (behind a rate-limit hold, forbidden, ...). */
  batchRefused(code: string): void;
  /** The message budget cut a batch short, and holds the sender's later batches. */
  rateLimitHold(): void;
  /** A `send` event was acked `seconds` after it arrived. */
  ackLatency(seconds: number): void;
  /** A `history` page was served. */
  historyPage(): void;
  /** A socket was refused at its handshake with `code` (or `origin_not_allowed`). */
  handshakeRefused(code: string): void;
  /** The store committed a group of batches (see MessageStore's `observeCommits`). */
  commit(stats: CommitStats): void;
  /** The Prometheus text: this server's metrics, then the process's. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Acks are milliseconds on a healthy server; the top buckets catch a store in trouble. */
const ACK_SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** A SQLite commit is one WAL sync (tens of µs to ms); PostgreSQL's one round trip. */
const COMMIT_SECONDS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** Batches that shared one transaction. */
const COMMIT_BATCHES_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * The process's own figures (event-loop lag, heap, GC, CPU, file descriptors) under
 * `ferry_`. One registry a process, made on first use: they describe the process, which
 * several servers share in tests, and prom-client's collectors (an event-loop delay monitor,
 * a GC observer) are never stopped once started.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'ferry_' });
  }
  return processRegistry;
}

/**
 * The metrics of one FerryServer, on a registry of its own: tests run several servers in
 * one process, and each must count only what it did. `connectedSockets` is read at each
 * scrape, so connecting costs nothing.
 */
export function createServerMetrics(connectedSockets: () => number): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'ferry_connected_sockets',
    help: 'Sockets connected to this process (past the handshake)',
    registers,
    collect() {
      this.set(connectedSockets());
    },
  });
  const messages = new Counter({
    name: 'ferry_messages_total',
    help: 'Messages of answered send batches, by outcome; code says why one was rejected',
    labelNames: ['outcome', 'code'] as const,
    registers,
  });
  const batchesRefused = new Counter({
    name: 'ferry_batches_refused_total',
    help: 'Send batches refused whole, by error code',
    labelNames: ['code'] as const,
    registers,
  });
  const holds = new Counter({
    name: 'ferry_rate_limit_holds_total',
    help: "Batches cut short by a user's message budget (their sender is held until it resends)",
    registers,
  });
  const ackSeconds = new Histogram({
    name: 'ferry_ack_latency_seconds',
    help: "From a socket's send event arriving to its ack",
    buckets: ACK_SECONDS_BUCKETS,
    registers,
  });
  const historyPages = new Counter({
    name: 'ferry_history_pages_total',
    help: 'History pages served',
    registers,
  });
  const handshakeRefusals = new Counter({
    name: 'ferry_handshake_refusals_total',
    help: 'Sockets refused at the handshake, by error code',
    labelNames: ['code'] as const,
    registers,
  });
  const commitBatches = new Histogram({
    name: 'ferry_group_commit_batches',
    help: 'Send batches committed together in one transaction',
    buckets: COMMIT_BATCHES_BUCKETS,
    registers,
  });
  const commitSeconds = new Histogram({
    name: 'ferry_group_commit_seconds',
    help: 'Time to commit one group of batches',
    buckets: COMMIT_SECONDS_BUCKETS,
    registers,
  });
  // Registered before any use: a Prometheus query for a code that never happened gets 0.
  for (const outcome of ['accepted', 'duplicate'] as const) messages.inc({ outcome }, 0);
  const processRegistry = processMetrics();

  return {
    messages(outcome, count, code) {
      if (count > 0) messages.inc(code === undefined ? { outcome } : { outcome, code }, count);
    },
    batchRefused: (code) => batchesRefused.inc({ code }),
    rateLimitHold: () => holds.inc(),
    ackLatency: (seconds) => ackSeconds.observe(seconds),
    historyPage: () => historyPages.inc(),
    handshakeRefused: (code) => handshakeRefusals.inc({ code }),
    commit(stats) {
      commitBatches.observe(stats.batches);
      commitSeconds.observe(stats.durationMs / 1_000);
    },
    async render() {
      return `${await registry.metrics()}\n${await processRegistry.metrics()}`;
    },
    contentType: registry.contentType,
  };
}

/**
 * Counts each message's result of an answered batch in `ferry_messages_total`; answers the
 * codes of the ones rejected one by one (invalid, empty, too long, id taken), for the log.
 */
export function countSendResults(results: readonly SendResult[], metrics: ServerMetrics): string[] {
  let accepted = 0;
  let duplicate = 0;
  let rateLimited = 0;
  const rejected: string[] = [];
  for (const result of results) {
    if (result.status === 'rejected') {
      if (result.code === 'rate_limited') {
        rateLimited += 1;
      } else {
        rejected.push(result.code);
        metrics.messages('rejected', 1, result.code);
      }
    } else if (result.status === 'accepted') {
      accepted += 1;
    } else {
      duplicate += 1;
    }
  }
  metrics.messages('accepted', accepted);
  metrics.messages('duplicate', duplicate);
  metrics.messages('rate_limited', rateLimited);
  return rejected;
}

const nothing = () => {};

/** Metrics off (`metrics: false`, FERRY_METRICS=off): nothing is counted nor served. */
export const NO_METRICS: ServerMetrics = {
  messages: nothing,
  batchRefused: nothing,
  rateLimitHold: nothing,
  ackLatency: nothing,
  historyPage: nothing,
  handshakeRefused: nothing,
  commit: nothing,
  render: () => Promise.reject(new Error('metrics are off')),
  contentType: 'text/plain',
};
