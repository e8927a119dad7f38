import { alternate } from './alternate.ts';
import type { BenchConfig } from './config.ts';
import { uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { ferryClient, type LoadSample, runLoad, signUpMany, withClients } from './server-load.ts';
import { type BenchServer, spawnServer } from './servers/spawn.ts';

/** One repetition: benchmark 4's figures, and the server's CPU time per message. */
interface OverheadSample extends LoadSample {
  cpuMicrosPerMessage: number;
}

type Variant = 'on' | 'off';

/**
 * Benchmark 10: what `/metrics` costs the server. Benchmark 4's load (one busy room) on two
 * Ferry servers alike but for FERRY_METRICS=off on one, alternating repetition by
 * repetition. The server with metrics is scraped after each repetition, as Prometheus
 * would be, so that collecting is paid for too.
 *
 * Throughput on a shared 2-core machine moves by tens of percent from one repetition to the
 * next, far more than metrics could cost; the server's CPU time per message (user + system,
 * read from the process itself around the load) is the steadier figure, and the one the
 * 5 % goal is held to.
 */
export async function benchMetricsOverhead(config: BenchConfig): Promise<ReportRow[]> {
  const load = config.server;
  const servers: Record<Variant, BenchServer> = {
    on: await spawnServer('ferry'),
    off: await spawnServer('ferry', { env: { FERRY_METRICS: 'off' } }),
  };
  try {
    const sessions = {
      on: await signUpMany(servers.on.url, load.clients, 'metrics on'),
      off: await signUpMany(servers.off.url, load.clients, 'metrics off'),
    };
    const messages = load.clients * load.messagesPerClient;
    const measure = (variant: Variant) => async (): Promise<OverheadSample> => {
      const server = servers[variant];
      const room = uniqueRoom('metrics');
      const sample = await withClients(
        () =>
          Promise.all(sessions[variant].map((session) => ferryClient(server.url, session, room))),
        async (clients) => {
          const cpuBefore = await server.cpuMicros();
          const figures = await runLoad(clients, room, load);
          if (variant === 'on') await scrape(server.url);
          const cpuMicrosPerMessage = ((await server.cpuMicros()) - cpuBefore) / messages;
          return { ...figures, cpuMicrosPerMessage };
        },
      );
      return sample;
    };
    const samples = await alternate<Variant, OverheadSample>(
      config.reps,
      { on: measure('on'), off: measure('off') },
      // The first repetition of each would pay for the JIT warming up.
      { warmUp: ['on', 'off'] },
    );
    const figure = (variant: Variant, pick: (sample: OverheadSample) => number) =>
      samples[variant].map(pick);
    const what = `server: ${load.clients} clients in one room`;
    return [
      makeRow({
        name: `${what}, server CPU per message with /metrics on, vs FERRY_METRICS=off`,
        unit: 'µs',
        better: 'lower',
        ferry: figure('on', (sample) => sample.cpuMicrosPerMessage),
        baseline: figure('off', (sample) => sample.cpuMicrosPerMessage),
        goal: {
          text: '<= 1.05x metrics off',
          criteria: [{ figure: 'ratio', op: '<=', value: 1.05 }],
        },
      }),
      makeRow({
        name: `${what}, msgs per s with /metrics on, vs FERRY_METRICS=off`,
        unit: 'msg/s',
        better: 'higher',
        ferry: figure('on', (sample) => sample.messagesPerSecond),
        baseline: figure('off', (sample) => sample.messagesPerSecond),
      }),
    ];
  } finally {
    await Promise.all([servers.on.stop(), servers.off.stop()]);
  }
}

/** One Prometheus scrape; throws unless it is served. */
async function scrape(url: string): Promise<void> {
  const response = await fetch(`${url}/metrics`);
  await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
}
