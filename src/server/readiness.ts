import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LinkState } from './link-log.ts';
import type { Logger } from './logger.ts';
import type { MessageStore } from './store/message-store.ts';

/**
 * `GET /readyz`: whether this process should be sent traffic now, for a load balancer or an
 * orchestrator. `/healthz` is liveness (the process answers at all) and touches nothing;
 * this one asks the dependencies. See docs/operations.md, "Readiness".
 *
 *   200 {"ok":true,"checks":{"database":"ok","redisFanout":"down"}}
 *   503 {"ok":false,"reason":"database: PostgreSQL did not answer within 1000 ms","checks":{…}}
 */

/**
 * How long /readyz waits for one check before it counts it as failed. Each check bounds
 * itself (the PostgreSQL ping gives up after PG_PING_TIMEOUT_MS); this is the backstop, so
 * that the probe answers in under two seconds whatever a check does.
 */
export const READINESS_CHECK_TIMEOUT_MS = 1_500;

/** One dependency that /readyz asks about. */
export interface ReadinessCheck {
  /** What the answer calls it: `database`, `redisFanout`, `redisRateLimits`. */
  name: string;
  /**
   * Whether the process is not ready while this check fails (the database: without it no
   * handshake, read or send works), or only says so and stays ready (Redis: Ferry serves
   * without it, see docs/scale-out.md, "While Redis is down").
   */
  required: boolean;
  /** Resolves with what is wrong, or null when nothing is; a rejection is what is wrong. */
  run(): Promise<string | null>;
}

/** What /readyz answers. */
export interface ReadinessReport {
  ok: boolean;
  /** The failed required checks, `name: problem`, joined with `; ` (absent when ready). */
  reason?: string;
  /** Every check by name: `ok`, or what is wrong with it. */
  checks: Record<string, string>;
}

/** The database check: the store answers a trivial query (MessageStore.ping). */
export function storeCheck(store: Pick<MessageStore, 'ping'>): ReadinessCheck {
  return {
    name: 'database',
    required: true,
    run: async () => {
      await store.ping();
      return null;
    },
  };
}

/**
 * A check on a link a process keeps in the background (see link-log.ts): reported by its
 * state, `connecting` or `down`, without any I/O; never required.
 */
export function linkCheck(name: string, link: { readonly state: LinkState }): ReadinessCheck {
  return {
    name,
    required: false,
    run: async () => (link.state === 'up' ? null : link.state),
  };
}

/** Runs every check at once, each bounded by READINESS_CHECK_TIMEOUT_MS. */
export async function checkReadiness(
  checks: readonly ReadinessCheck[],
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const problems = await Promise.all(checks.map((check) => problemOf(check, timeoutMs)));
  const report: ReadinessReport = { ok: true, checks: {} };
  const reasons: string[] = [];
  checks.forEach((check, i) => {
    const problem = problems[i] ?? null;
    report.checks[check.name] = problem ?? 'ok';
    if (problem !== null && check.required) reasons.push(`${check.name}: ${problem}`);
  });
  if (reasons.length > 0) {
    report.ok = false;
    report.reason = reasons.join('; ');
  }
  return report;
}

async function problemOf(check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    // Through `then`, so that a check that throws at once is a problem like any other.
    return await Promise.race([Promise.resolve().then(() => check.run()), late]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The `/readyz` route: answers true when it handled the request. The log hears when the
 * process stops being ready and when it is ready again, once per change, not per probe.
 */
export function createReadinessRoute(
  checks: readonly ReadinessCheck[],
  log: Pick<Logger, 'info' | 'warn'>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  let wasReady = true;
  return (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/readyz') return false;
    void checkReadiness(checks).then((report) => {
      if (report.ok !== wasReady) {
        if (report.ok) log.info('ready again');
        else log.warn({ reason: report.reason }, `not ready: ${report.reason}`);
        wasReady = report.ok;
      }
      if (res.destroyed) return;
      res.writeHead(report.ok ? 200 : 503, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
      });
      res.end(JSON.stringify(report));
    });
    return true;
  };
}
