import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/server/config.ts';

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
});
