import { type Logger, messageOf } from './logger.ts';
import type { FerryIo } from './socket-types.ts';
import type { MessageStore } from './store/message-store.ts';

/**
 * How often, on average, a process tells its sockets the newest seq of their rooms. Each
 * wait is drawn from 15–25 s, so that the processes of a cluster (and a fleet restarted
 * at once) do not all read the database in the same second. Within that time a client
 * whose live message was lost on the way (Redis down, a process killed between COMMIT
 * and broadcast) sees the hole, even in a room where nothing else is said.
 */
export const HEAD_CHECK_MS = 20_000;
const HEAD_CHECK_JITTER = 0.25;

/** Rooms read from the store in one query: a bound on its size, not a tuning knob. */
const ROOMS_PER_READ = 1_000;

/** socket.io rooms that are not chat rooms: every socket's session room (see realtime.ts). */
const SESSION_ROOM_PREFIX = 'session:';

export interface RoomHeadsOptions {
  store: MessageStore;
  log: Logger;
  /** Mean time between checks; HEAD_CHECK_MS unless a test says otherwise. */
  intervalMs?: number;
  random?: () => number;
}

export interface RoomHeads {
  /**
   * Tells every room of this process its newest seq now, moved or not: this process's
   * fan-out is back, and what it missed meanwhile is not known.
   */
  tellAll(): Promise<void>;
  stop(): void;
}

/**
 * The head check: every 15–25 s, one read of the newest seq of every chat room that has a
 * socket on this process, and a `head` event to the room's sockets on this process for
 * each room whose newest seq moved since it was last told. A quiet room costs nothing on
 * the wire; a room whose seq moved costs one small event per socket, which a client whose
 * cursor is already there ignores.
 *
 * The store is the truth, so the check holds with any fan-out, or none.
 */
export function startRoomHeads(io: FerryIo, options: RoomHeadsOptions): RoomHeads {
  const { store, log, intervalMs = HEAD_CHECK_MS, random = Math.random } = options;
  /** The newest seq each room was last told, for the rooms with sockets here. */
  let told = new Map<string, number>();
  let running: Promise<void> | null = null;
  let again = false;
  /** The next check tells every room, moved or not. */
  let tellEveryRoom = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  /** The chat rooms with at least one socket on this process. */
  function localRooms(): string[] {
    const { rooms, sids } = io.of('/').adapter;
    const names: string[] = [];
    for (const name of rooms.keys()) {
      if (!sids.has(name) && !name.startsWith(SESSION_ROOM_PREFIX)) names.push(name);
    }
    return names;
  }

  async function check(): Promise<void> {
    const everyRoom = tellEveryRoom;
    tellEveryRoom = false;
    const rooms = localRooms();
    const next = new Map<string, number>();
    for (let start = 0; start < rooms.length; start += ROOMS_PER_READ) {
      const seqs = await store.latestSeqs(rooms.slice(start, start + ROOMS_PER_READ));
      for (const [room, latestSeq] of seqs) {
        next.set(room, latestSeq);
        if (latestSeq === 0 || (!everyRoom && told.get(room) === latestSeq)) continue;
        io.local.to(room).emit('head', { room, latestSeq });
      }
    }
    // Rooms that lost their last socket here are forgotten: a socket that joins one again
    // learns its newest seq from the join's answer.
    told = next;
  }

  /** One check at a time; a check asked for meanwhile runs once more after it. */
  function run(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await check();
        } while (again && !stopped);
      } catch (error) {
        // The next check tries again; clients meanwhile rely on live messages and reconnects.
        // A check cut short by the server stopping (its store closed under it) is no error.
        if (!stopped) log.error({ err: error }, `head check failed: ${messageOf(error)}`);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    const spread = 1 - HEAD_CHECK_JITTER + random() * 2 * HEAD_CHECK_JITTER;
    timer = setTimeout(() => {
      void run().then(schedule);
    }, intervalMs * spread);
    timer.unref();
  }
  schedule();

  return {
    tellAll() {
      tellEveryRoom = true;
      return run();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
