import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../src/server/config.ts';
import { DEFAULT_FLOOD_LIMITS } from '../../src/server/flood-limits.ts';

describe('configFromEnv', () => {
  it('reads the message budget from FERRY_RATE_BURST and FERRY_RATE_PER_MINUTE', () => {
    const config = configFromEnv({ FERRY_RATE_BURST: '50', FERRY_RATE_PER_MINUTE: '5' });
    expect(config.messageRate).toEqual({ capacity: 50, refillPerMinute: 5 });
  });

  it.each([
    ['FERRY_RATE_PER_MINUTE', '0'],
    ['FERRY_RATE_BURST', '0'],
    ['FERRY_RATE_PER_MINUTE', '-5'],
    ['FERRY_RATE_BURST', '1.5'],
    ['FERRY_RATE_PER_MINUTE', 'lots'],
  ])('refuses %s=%s with a message that names the variable', (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(
      new RegExp(`${name} must be an integer from 1 to`),
    );
  });

  it('uses the default flood limits when no variable is set', () => {
    expect(configFromEnv({}).floodLimits).toEqual(DEFAULT_FLOOD_LIMITS);
  });

  it('reads every flood limit from its own variable', () => {
    const config = configFromEnv({
      FERRY_MAX_SOCKETS_PER_USER: '3',
      FERRY_MAX_ROOMS_PER_SOCKET: '40',
      FERRY_ROOMS_PER_HOUR: '5',
      FERRY_JOIN_BURST: '7',
      FERRY_JOIN_PER_MINUTE: '8',
      FERRY_HISTORY_BURST: '9',
      FERRY_HISTORY_PER_MINUTE: '10',
      FERRY_RECEIPT_BURST: '13',
      FERRY_RECEIPT_PER_MINUTE: '14',
      FERRY_MAX_OUTBOUND_BYTES: '1048576',
      FERRY_OUTBOUND_STALL_MS: '5000',
      FERRY_MAX_HTTP_SENDS_PER_USER: '4',
      FERRY_REFUSED_TOKEN_BURST: '11',
      FERRY_REFUSED_TOKEN_PER_MINUTE: '12',
    });
    expect(config.floodLimits).toEqual({
      maxSocketsPerUser: 3,
      maxRoomsPerSocket: 40,
      roomsCreatedPerHour: 5,
      joinRate: { capacity: 7, refillPerMinute: 8 },
      historyRate: { capacity: 9, refillPerMinute: 10 },
      receiptRate: { capacity: 13, refillPerMinute: 14 },
      maxOutboundBytes: 1_048_576,
      outboundStallMs: 5_000,
      maxHttpSendsPerUser: 4,
      refusedTokenRate: { capacity: 11, refillPerMinute: 12 },
    });
  });

  it.each([
    ['FERRY_MAX_SOCKETS_PER_USER', '0'],
    ['FERRY_MAX_ROOMS_PER_SOCKET', '-1'],
    ['FERRY_ROOMS_PER_HOUR', '0'],
    ['FERRY_JOIN_BURST', '0'],
    ['FERRY_HISTORY_PER_MINUTE', '2.5'],
    ['FERRY_RECEIPT_BURST', '0'],
    ['FERRY_MAX_OUTBOUND_BYTES', '1000'],
    ['FERRY_OUTBOUND_STALL_MS', '10'],
    ['FERRY_OUTBOUND_STALL_MS', 'soon'],
    ['FERRY_MAX_HTTP_SENDS_PER_USER', '0'],
    ['FERRY_REFUSED_TOKEN_BURST', '0'],
    ['FERRY_REFUSED_TOKEN_PER_MINUTE', '-1'],
  ])('refuses the flood limit %s=%s with a message that names the variable', (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(
      new RegExp(`${name} must be an integer`),
    );
  });

  it('keeps messages in the SQLite file of FERRY_DB, or data/ferry.db, when no database URL is set', () => {
    expect(configFromEnv({}).database).toEqual({
      kind: 'sqlite',
      path: expect.stringMatching(/data\/ferry\.db$/),
    });
    expect(configFromEnv({ FERRY_DB: '/srv/ferry/chat.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/srv/ferry/chat.db',
    });
  });

  it('keeps them in PostgreSQL when FERRY_DATABASE_URL is set, whatever FERRY_DB says', () => {
    const url = 'postgres://ferry@db.internal:5432/ferry';
    expect(configFromEnv({ FERRY_DATABASE_URL: url, FERRY_DB: '/srv/x.db' }).database).toEqual({
      kind: 'postgres',
      url,
    });
  });

  it.each([
    ['mysql://db/ferry', 'must start with postgres://'],
    ['not a url', 'must be a URL like postgres://'],
  ])('refuses FERRY_DATABASE_URL=%s and says why', (value, why) => {
    expect(() => configFromEnv({ FERRY_DATABASE_URL: value })).toThrow(why);
  });

  it('has no Redis fan-out unless FERRY_REDIS_URL is set', () => {
    expect(configFromEnv({}).redisUrl).toBeNull();
  });

  it.each(['redis://cache.internal:6379', 'rediss://:secret@cache.internal:6380/2'])(
    'reads FERRY_REDIS_URL=%s',
    (url) => {
      expect(configFromEnv({ FERRY_REDIS_URL: url }).redisUrl).toBe(url);
    },
  );

  it.each([
    ['http://cache:6379', 'must start with redis:// or rediss://'],
    ['cache:6379', 'must start with redis:// or rediss://'],
    ['not a url', 'must be a URL like redis://'],
  ])('refuses FERRY_REDIS_URL=%s and says why', (value, why) => {
    expect(() => configFromEnv({ FERRY_REDIS_URL: value })).toThrow(why);
  });
});

describe('configFromEnv on its zod schema', () => {
  it('keeps every default when nothing is set', () => {
    const config = configFromEnv({});
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      database: { kind: 'sqlite', path: expect.stringMatching(/data\/ferry\.db$/) },
      redisUrl: null,
      staticDir: expect.stringMatching(/dist$/),
      allowedOrigins: [],
      messageRate: { capacity: 1_000, refillPerMinute: 100 },
      floodLimits: DEFAULT_FLOOD_LIMITS,
      https: null,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      metrics: { enabled: true, token: null },
    });
  });

  it('takes an empty variable for an unset one', () => {
    expect(configFromEnv({ PORT: '', FERRY_LOG_LEVEL: '', FERRY_RATE_BURST: '' })).toEqual(
      configFromEnv({}),
    );
  });

  it('reads the log level, the shutdown grace and the metrics switch and token', () => {
    const config = configFromEnv({
      FERRY_LOG_LEVEL: 'WARN',
      FERRY_SHUTDOWN_GRACE_MS: '30000',
      FERRY_METRICS: 'off',
      FERRY_METRICS_TOKEN: 'a-long-enough-scrape-token',
    });
    expect(config.logLevel).toBe('warn');
    expect(config.shutdownGraceMs).toBe(30_000);
    expect(config.metrics).toEqual({ enabled: false, token: 'a-long-enough-scrape-token' });
  });

  it.each([
    ['PORT', '70000', 'must be an integer from 0 to 65535, got "70000"'],
    ['FERRY_LOG_LEVEL', 'verbose', 'must be one of trace, debug, info, warn, error, fatal, silent'],
    ['FERRY_SHUTDOWN_GRACE_MS', '999', 'must be an integer from 1000 to 600000'],
    ['FERRY_SHUTDOWN_GRACE_MS', '600001', 'must be an integer from 1000 to 600000'],
    [
      'FERRY_SHUTDOWN_GRACE_MS',
      'soon',
      'must be an integer from 1000 to 600000 (one second to ten minutes), got "soon"',
    ],
    ['FERRY_METRICS', 'maybe', 'must be on or off'],
  ])('refuses %s=%s with a message that names the variable', (name, value, why) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(`${name} ${why}`);
  });

  it('refuses a short FERRY_METRICS_TOKEN without repeating it', () => {
    expect(() => configFromEnv({ FERRY_METRICS_TOKEN: 'hunter2' })).toThrow(
      /^FERRY_METRICS_TOKEN must be at least 16 characters long$/,
    );
  });

  it('never repeats a password from a database URL it refuses', () => {
    const refuse = () => configFromEnv({ FERRY_DATABASE_URL: 'mysql://ferry:s3cret@db/ferry' });
    expect(refuse).toThrow('FERRY_DATABASE_URL must start with postgres://');
    expect(refuse).not.toThrow('s3cret');
  });

  it('names every wrong variable at once, one a line, as a ConfigError', () => {
    let thrown: unknown;
    try {
      configFromEnv({ PORT: 'x', FERRY_JOIN_BURST: '0', FERRY_METRICS: 'yes' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as Error).message.split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual([
      'PORT',
      'FERRY_JOIN_BURST',
      'FERRY_METRICS',
    ]);
  });
});
