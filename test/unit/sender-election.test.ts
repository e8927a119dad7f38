import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryLocks } from '../../src/client/memory-locks.ts';
import type { ProfileChange, ProfileChannel } from '../../src/client/profile-channel.ts';
import {
  SENDER_PROBE_INTERVAL_MS,
  SENDER_PROBES_UNANSWERED,
  SenderElection,
} from '../../src/client/sender-election.ts';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';

/** BroadcastChannel's semantics in one test: every other member hears a post, later. */
class ChannelHub {
  readonly #members = new Set<Set<(change: ProfileChange) => void>>();
  readonly posts: ProfileChange[] = [];

  open(): ProfileChannel & { mute(): void } {
    const listeners = new Set<(change: ProfileChange) => void>();
    this.#members.add(listeners);
    let muted = false;
    return {
      post: (change) => {
        if (muted) return;
        this.posts.push(change);
        for (const member of this.#members) {
          if (member === listeners) continue;
          queueMicrotask(() => {
            if (!muted) for (const listener of member) listener(change);
          });
        }
      },
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close: () => this.#members.delete(listeners),
      mute: () => {
        muted = true;
      },
    };
  }
}

interface Tab {
  election: SenderElection;
  channel: ReturnType<ChannelHub['open']>;
  connected: boolean;
  outbox: boolean;
  visible: boolean;
}

function tab(hub: ChannelHub, locks: MemoryLocks | null): Tab {
  const channel = hub.open();
  const state = { connected: true, outbox: false, visible: true };
  const election = new SenderElection({
    locks,
    lockName: 'ferry-sender:test',
    channel,
    timers: SYSTEM_TIMERS,
    visibility: { isVisible: () => state.visible, subscribe: () => () => undefined },
    isConnected: () => state.connected,
    hasOutbox: () => state.outbox,
    onChange: () => undefined,
  });
  const made = Object.assign(state, { election, channel });
  election.start();
  return made;
}

const probesUntilSteal = (SENDER_PROBES_UNANSWERED + 1) * SENDER_PROBE_INTERVAL_MS;

describe('SenderElection', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes the first tab the sender and the others followers', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const tabs = [tab(hub, locks), tab(hub, locks), tab(hub, locks)];
    await vi.advanceTimersByTimeAsync(0);
    expect(tabs.map((t) => t.election.leadership.kind)).toEqual(['leader', 'follower', 'follower']);
  });

  it('makes every tab solo where there are no Web Locks', () => {
    const hub = new ChannelHub();
    expect(tab(hub, null).election.leadership.kind).toBe('solo');
  });

  it('hands the lock to the next tab in line when the sender closes', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [first, second, third] = [tab(hub, locks), tab(hub, locks), tab(hub, locks)];
    await vi.advanceTimersByTimeAsync(0);
    first.election.close();
    await vi.advanceTimersByTimeAsync(0);
    expect([second.election.leadership.kind, third.election.leadership.kind]).toEqual([
      'leader',
      'follower',
    ]);
  });

  it('keeps a sender that answers probes, however long the outbox waits', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [leader, follower] = [tab(hub, locks), tab(hub, locks)];
    follower.outbox = true;
    await vi.advanceTimersByTimeAsync(10 * probesUntilSteal);
    expect([leader.election.leadership.kind, follower.election.leadership.kind]).toEqual([
      'leader',
      'follower',
    ]);
  });

  it('takes the lock from a silent sender after SENDER_PROBES_UNANSWERED probes, and the old one follows', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [leader, follower] = [tab(hub, locks), tab(hub, locks)];
    await vi.advanceTimersByTimeAsync(0);
    leader.channel.mute();
    follower.outbox = true;
    await vi.advanceTimersByTimeAsync(probesUntilSteal - SENDER_PROBE_INTERVAL_MS);
    expect(follower.election.leadership.kind).toBe('follower');
    await vi.advanceTimersByTimeAsync(SENDER_PROBE_INTERVAL_MS);
    expect([leader.election.leadership.kind, follower.election.leadership.kind]).toEqual([
      'follower',
      'leader',
    ]);
  });

  it('takes the lock from a sender whose link is down while its own is up', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [leader, follower] = [tab(hub, locks), tab(hub, locks)];
    leader.connected = false;
    follower.outbox = true;
    await vi.advanceTimersByTimeAsync(probesUntilSteal);
    expect(follower.election.leadership.kind).toBe('leader');
  });

  it('leaves the lock alone while its own link is down as well', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [leader, follower] = [tab(hub, locks), tab(hub, locks)];
    leader.connected = false;
    follower.connected = false;
    follower.outbox = true;
    await vi.advanceTimersByTimeAsync(10 * probesUntilSteal);
    expect(follower.election.leadership.kind).toBe('follower');
  });

  it('neither probes nor steals while hidden or with an empty outbox', async () => {
    const hub = new ChannelHub();
    const locks = new MemoryLocks();
    const [leader, hidden, idle] = [tab(hub, locks), tab(hub, locks), tab(hub, locks)];
    await vi.advanceTimersByTimeAsync(0);
    leader.channel.mute();
    hidden.outbox = true;
    hidden.visible = false;
    await vi.advanceTimersByTimeAsync(10 * probesUntilSteal);
    expect([hidden.election.leadership.kind, idle.election.leadership.kind]).toEqual([
      'follower',
      'follower',
    ]);
    expect(hub.posts.filter((change) => change.kind === 'probe')).toEqual([]);
  });
});
