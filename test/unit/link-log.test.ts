import { describe, expect, it } from 'vitest';
import { createLinkLog } from '../../src/server/link-log.ts';
import { captureLog } from '../support/log-capture.ts';

function linkLog() {
  const { logger, messages: lines } = captureLog();
  let now = 0;
  const link = createLinkLog({
    name: 'Redis',
    whileDown: 'local only',
    log: logger,
    clock: () => now,
  });
  return { link, lines, advance: (ms: number) => (now += ms) };
}

describe('createLinkLog', () => {
  it('says once that the link is up, however often it is told', () => {
    const { link, lines } = linkLog();
    link.up();
    link.up();
    expect(lines).toEqual(['Redis: connected']);
  });

  it('says once that the link is lost, with the first reason, however many retries fail', () => {
    const { link, lines } = linkLog();
    link.up();
    link.down('ECONNRESET');
    link.down('ECONNREFUSED');
    link.down('ECONNREFUSED');
    expect(lines.slice(1)).toEqual([
      'Redis: connection lost (ECONNRESET); local only; retrying in the background',
    ]);
    expect(link.state).toBe('down');
  });

  it('calls a link that never came up unreachable rather than lost', () => {
    const { link, lines } = linkLog();
    link.down('ECONNREFUSED');
    expect(lines).toEqual([
      'Redis: unreachable (ECONNREFUSED); local only; retrying in the background',
    ]);
  });

  it('says how long the link was down when it comes back', () => {
    const { link, lines, advance } = linkLog();
    link.up();
    link.down('ECONNRESET');
    advance(12_345);
    link.up();
    expect(lines.at(-1)).toBe('Redis: back after 12.3 s');
    expect(link.state).toBe('up');
  });
});
