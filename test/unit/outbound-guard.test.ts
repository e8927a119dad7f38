import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/server/logger.ts';
import { OUTBOUND_SWEEP_MS, OutboundGuard } from '../../src/server/outbound-guard.ts';
import type { FerrySocket } from '../../src/server/socket-types.ts';

const MB = 1024 * 1024;
const MAX_BYTES = 4 * MB;
const STALL_MS = 30_000;

/**
 * The parts of a socket.io socket the guard reads and acts on: output pending on the
 * WebSocket (`bufferedAmount`, which the test sets), and the disconnect it may be dropped by.
 */
function fakeSocket() {
  const state = { pendingBytes: 0, dropped: false };
  const shape = {
    connected: true,
    conn: { writeBuffer: [], transport: { socket: { bufferedAmount: 0 } } },
    request: { socket: { destroy: () => {} } },
    disconnect: () => {
      state.dropped = true;
      shape.connected = false;
    },
  };
  return {
    socket: shape as unknown as FerrySocket,
    setPending(bytes: number): void {
      shape.conn.transport.socket.bufferedAmount = bytes;
    },
    get dropped() {
      return state.dropped;
    },
  };
}

function guardWithClock() {
  let now = 0;
  const guard = new OutboundGuard({
    maxBytes: MAX_BYTES,
    stallMs: STALL_MS,
    clock: () => now,
    logOf: () => silentLogger,
  });
  return {
    guard,
    /** Moves time on by one sweep and sweeps. */
    sweepAfter(ms = OUTBOUND_SWEEP_MS, sockets: FerrySocket[] = []): void {
      now += ms;
      guard.sweep(sockets);
    },
  };
}

describe('OutboundGuard', () => {
  it('keeps a slow reader whose pending output drains and refills in a saw-tooth around a flat level', () => {
    const { guard, sweepAfter } = guardWithClock();
    const client = fakeSocket();
    // The client reads half a megabyte a second while each fourth second another 2 MB page
    // is written: the level goes 3, 2.5, 2, 1.5 MB and back to 3, flat over any stall time.
    const level = (second: number) => 3 * MB - (second % 4) * 0.5 * MB;
    client.setPending(level(0));
    guard.sweep([client.socket]);
    for (let second = 1; second <= (3 * STALL_MS) / 1_000; second++) {
      client.setPending(level(second));
      sweepAfter(1_000, [client.socket]);
    }
    expect(client.dropped).toBe(false);
  });

  it('drops a socket whose pending output never goes down, once the stall time is over', () => {
    const { guard, sweepAfter } = guardWithClock();
    const client = fakeSocket();
    client.setPending(MB);
    guard.sweep([client.socket]);
    for (let waited = 1_000; waited < STALL_MS; waited += 1_000) {
      // Pings and answers keep being written, and nothing is taken.
      client.setPending(MB + waited);
      sweepAfter(1_000, [client.socket]);
    }
    expect(client.dropped).toBe(false);
    sweepAfter(1_000, [client.socket]);
    expect(client.dropped).toBe(true);
  });

  it('drops a socket at once when its pending output passes four times the bound', () => {
    const { guard } = guardWithClock();
    const client = fakeSocket();
    client.setPending(4 * MAX_BYTES + 1);
    guard.sweep([client.socket]);
    expect(client.dropped).toBe(true);
  });

  it('forgets a socket whose output all went out, so a later stall is timed from then', () => {
    const { guard, sweepAfter } = guardWithClock();
    const client = fakeSocket();
    client.setPending(MB);
    guard.sweep([client.socket]);
    client.setPending(0);
    sweepAfter(STALL_MS - 1_000, [client.socket]);
    client.setPending(MB);
    sweepAfter(1_000, [client.socket]);
    sweepAfter(STALL_MS - 1_000, [client.socket]);
    expect(client.dropped).toBe(false);
  });
});
