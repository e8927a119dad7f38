import { benchApp } from './app.ts';
import { benchCatchUpNode } from './catch-up.ts';
import { benchCatchUpChromium } from './catch-up-chromium.ts';
import type { BenchConfig } from './config.ts';
import { benchConnectionMemory } from './connection-memory.ts';
import { benchLighthouse } from './lighthouse.ts';
import { benchMerge } from './merge.ts';
import { benchMetricsOverhead } from './metrics-overhead.ts';
import { benchOutboxFlush } from './outbox-flush.ts';
import { benchReconnectStorm } from './reconnect-storm.ts';
import type { ReportRow } from './rows.ts';
import { benchScaleOutAppends } from './scale-out-appends.ts';
import { benchServerLoad } from './server-load.ts';
import { benchTabFlush } from './tab-flush.ts';

/** One benchmark of the suite (a file of its own); `id` is what `--only` takes. */
export interface BenchDefinition {
  id: string;
  title: string;
  /** Needs headless Chromium (skipped, with a note, where there is none). */
  chromium: boolean;
  /** Needs PostgreSQL (test/support/postgres.ts) and `redis-server`; fails without them. */
  scaleOut?: true;
  run(config: BenchConfig): Promise<ReportRow[]>;
}

/** In the order of the report: the numbers in the titles. */
export const BENCHMARKS: readonly BenchDefinition[] = [
  { id: 'flush', title: '1. Outbox flush', chromium: false, run: benchOutboxFlush },
  { id: 'catch-up-node', title: '2. Catch-up (Node)', chromium: false, run: benchCatchUpNode },
  {
    id: 'catch-up-chromium',
    title: '2. Catch-up (Chromium)',
    chromium: true,
    run: benchCatchUpChromium,
  },
  { id: 'merge', title: '3. Merge', chromium: false, run: benchMerge },
  { id: 'server', title: '4. Server under load', chromium: false, run: benchServerLoad },
  { id: 'memory', title: '5. Memory per connection', chromium: false, run: benchConnectionMemory },
  { id: 'app', title: '6. App', chromium: true, run: benchApp },
  { id: 'tabs', title: '7. Tabs of one profile', chromium: false, run: benchTabFlush },
  {
    id: 'appends',
    title: '8. Scale-out: appends per second',
    chromium: false,
    scaleOut: true,
    run: benchScaleOutAppends,
  },
  {
    id: 'storm',
    title: '9. Reconnect storm',
    chromium: false,
    scaleOut: true,
    run: benchReconnectStorm,
  },
  {
    id: 'metrics',
    title: '10. Metrics overhead',
    chromium: false,
    run: benchMetricsOverhead,
  },
  { id: 'lighthouse', title: '11. Lighthouse', chromium: true, run: benchLighthouse },
];
