import type { Logger } from './logger.ts';

/**
 * Tells the log when a link to a service (Redis) goes down and when it comes back: once per
 * change, never once per reconnect attempt, so an outage of an hour is two lines.
 *
 *   connecting ──up()──▶ up ──down()──▶ down ──up()──▶ up ...
 *        └─────────down()──────────────▶ down
 */
export type LinkState = 'connecting' | 'up' | 'down';

export interface LinkLog {
  readonly state: LinkState;
  /** The link works (again). */
  up(): void;
  /** The link failed, or failed once more: said only if it was not down already. */
  down(reason: string): void;
}

export interface LinkLogOptions {
  /** What the link is, as the lines name it, e.g. "Redis fan-out (redis://cache:6379)". */
  name: string;
  /** What the server does without the link, said when it goes down. */
  whileDown: string;
  /** `info` when the link is up, `warn` when it goes down; each line carries `link: name`. */
  log: Logger;
  clock?: () => number;
}

export function createLinkLog({ name, whileDown, log, clock = Date.now }: LinkLogOptions): LinkLog {
  let state: LinkState = 'connecting';
  let downSince = 0;
  return {
    get state() {
      return state;
    },
    up() {
      if (state === 'up') return;
      if (state === 'down') {
        const seconds = ((clock() - downSince) / 1_000).toFixed(1);
        log.info({ link: name, downForS: Number(seconds) }, `${name}: back after ${seconds} s`);
      } else {
        log.info({ link: name }, `${name}: connected`);
      }
      state = 'up';
    },
    down(reason) {
      if (state === 'down') return;
      const what = state === 'up' ? 'connection lost' : 'unreachable';
      log.warn(
        { link: name, reason },
        `${name}: ${what} (${reason}); ${whileDown}; retrying in the background`,
      );
      state = 'down';
      downSince = clock();
    },
  };
}
