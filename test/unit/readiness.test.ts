import { describe, expect, it } from 'vitest';
import { createLinkLog, type LinkState } from '../../src/server/link-log.ts';
import { silentLogger } from '../../src/server/logger.ts';
import {
  checkReadiness,
  linkCheck,
  type ReadinessCheck,
  storeCheck,
} from '../../src/server/readiness.ts';

const check = (name: string, required: boolean, run: ReadinessCheck['run']): ReadinessCheck => ({
  name,
  required,
  run,
});
const fine = async () => null;

describe('checkReadiness', () => {
  const cases: {
    what: string;
    checks: ReadinessCheck[];
    ok: boolean;
    reason?: string;
    checksSay: Record<string, string>;
  }[] = [
    {
      what: 'every check fine',
      checks: [check('database', true, fine), check('redisFanout', false, fine)],
      ok: true,
      checksSay: { database: 'ok', redisFanout: 'ok' },
    },
    {
      what: 'a required check rejects',
      checks: [
        check('database', true, async () => {
          throw new Error('connect ECONNREFUSED');
        }),
      ],
      ok: false,
      reason: 'database: connect ECONNREFUSED',
      checksSay: { database: 'connect ECONNREFUSED' },
    },
    {
      what: 'a required check throws before it returns a promise',
      checks: [
        check('database', true, () => {
          throw new Error('The database connection is not open');
        }),
      ],
      ok: false,
      reason: 'database: The database connection is not open',
      checksSay: { database: 'The database connection is not open' },
    },
    {
      what: 'a check that is not required fails: reported, still ready',
      checks: [check('database', true, fine), check('redisFanout', false, async () => 'down')],
      ok: true,
      checksSay: { database: 'ok', redisFanout: 'down' },
    },
    {
      what: 'two required checks fail: both in the reason',
      checks: [check('a', true, async () => 'one'), check('b', true, async () => 'two')],
      ok: false,
      reason: 'a: one; b: two',
      checksSay: { a: 'one', b: 'two' },
    },
  ];

  for (const { what, checks, ok, reason, checksSay } of cases) {
    it(what, async () => {
      const report = await checkReadiness(checks);
      expect(report).toEqual({ ok, checks: checksSay, ...(reason ? { reason } : {}) });
    });
  }

  it('counts a check that never settles as failed, at the timeout', async () => {
    const started = performance.now();
    const report = await checkReadiness([check('database', true, () => new Promise(() => {}))], 50);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report).toEqual({
      ok: false,
      reason: 'database: no answer within 50 ms',
      checks: { database: 'no answer within 50 ms' },
    });
  });
});

describe('readiness checks', () => {
  it("reports a link's state, up being ok", async () => {
    const link = createLinkLog({ name: 'Redis', whileDown: 'x', log: silentLogger });
    const states: (LinkState | string)[] = [];
    const run = () => linkCheck('redisFanout', link).run();
    states.push((await run()) ?? 'ok');
    link.up();
    states.push((await run()) ?? 'ok');
    link.down('ECONNREFUSED');
    states.push((await run()) ?? 'ok');
    expect(states).toEqual(['connecting', 'ok', 'down']);
    expect(linkCheck('redisFanout', link).required).toBe(false);
  });

  it("makes the store's ping the required database check", async () => {
    const failing = storeCheck({ ping: async () => Promise.reject(new Error('gone')) });
    expect(failing).toMatchObject({ name: 'database', required: true });
    await expect(failing.run()).rejects.toThrow('gone');
    expect(await storeCheck({ ping: async () => {} }).run()).toBeNull();
  });
});
