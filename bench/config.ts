/** Sizes and repetitions of every benchmark. FULL_CONFIG holds the sizes the goals are set for. */
export interface BenchConfig {
  /** Repetitions of each variant (alternating); at least 5, so a median means something. */
  reps: number;
  flush: {
    messages: number;
    /** Delay the proxy adds in each direction; the round trip is twice this. */
    oneWayDelayMs: number;
    /** Messages per emit in the fire-and-forget floor (Ferry's batch cap). */
    floorBatchMessages: number;
  };
  catchUp: { messages: number };
  merge: {
    roomMessages: number;
    pageMessages: number;
    interleavedMessages: number;
    /** Timed calls of Ferry's merge per repetition; the repetition's sample is their median. */
    callsPerRep: number;
    /** The same for the naive merge, which costs ~50× more per call. */
    naiveCallsPerRep: number;
  };
  server: { clients: number; messagesPerClient: number; inFlightPerClient: number };
  memory: { connections: number };
  app: { storedMessages: number; bigRoomMessages: number; startReps: number };
  /** Tabs of one profile flushing one outbox (the sender is elected; see tab-flush.ts). */
  tabs: { messages: number; tabs: number };
  /** Appends per second on 1 and 3 nodes (scale-out-appends.ts). */
  appends: {
    /** Repetitions at most (fewer if `reps` is): each costs six windows, so a minute holds two. */
    reps: number;
    /** Users signed up per cluster (at most 20: main.ts's sign-ups per address). */
    users: number;
    hotRoomClients: number;
    /** The spread case: this many rooms, each with `clientsPerRoom` senders. */
    rooms: number;
    clientsPerRoom: number;
    /** One-message batches each client keeps in flight. */
    inFlightPerClient: number;
    warmUpMs: number;
    windowMs: number;
  };
  /** A node holding every client is killed (reconnect-storm.ts). */
  storm: {
    /** Repetitions at most (fewer if `reps` is). */
    reps: number;
    clients: number;
    rooms: number;
    /**
     * Users signed up; the clients take turns with their sessions. With the writer's, within
     * the 20 sign-ups main.ts grants an address (per cluster once the budgets live in Redis).
     */
    users: number;
    /** Sent to every room while its clients are away, and fetched by them on their return. */
    messagesPerRoom: number;
  };
  /** Lighthouse runs of the built app (lighthouse.ts); each row is their median. */
  lighthouse: {
    /** At most (fewer if `reps` is lower): about 8 s each on a 2-core machine. */
    runs: number;
  };
}

export const FULL_CONFIG: BenchConfig = {
  reps: 5,
  flush: { messages: 1_000, oneWayDelayMs: 10, floorBatchMessages: 100 },
  catchUp: { messages: 10_000 },
  merge: {
    roomMessages: 100_000,
    pageMessages: 50,
    interleavedMessages: 10_000,
    callsPerRep: 41,
    naiveCallsPerRep: 11,
  },
  server: { clients: 50, messagesPerClient: 40, inFlightPerClient: 2 },
  memory: { connections: 1_000 },
  app: { storedMessages: 1_000, bigRoomMessages: 100_000, startReps: 5 },
  tabs: { messages: 1_000, tabs: 3 },
  appends: {
    reps: 2,
    users: 20,
    hotRoomClients: 20,
    rooms: 100,
    clientsPerRoom: 2,
    inFlightPerClient: 2,
    warmUpMs: 1_000,
    windowMs: 2_000,
  },
  storm: { reps: 2, clients: 1_000, rooms: 100, users: 10, messagesPerRoom: 5 },
  lighthouse: { runs: 3 },
};

/** The smoke run inside `npm test`: every Node-side harness, tiny, once. */
export const SMOKE_CONFIG: BenchConfig = {
  reps: 1,
  flush: { messages: 20, oneWayDelayMs: 2, floorBatchMessages: 10 },
  catchUp: { messages: 60 },
  merge: {
    roomMessages: 500,
    pageMessages: 5,
    interleavedMessages: 50,
    callsPerRep: 3,
    naiveCallsPerRep: 3,
  },
  server: { clients: 3, messagesPerClient: 4, inFlightPerClient: 2 },
  memory: { connections: 5 },
  app: { storedMessages: 10, bigRoomMessages: 100, startReps: 1 },
  tabs: { messages: 20, tabs: 3 },
  appends: {
    reps: 1,
    users: 4,
    hotRoomClients: 4,
    rooms: 3,
    clientsPerRoom: 2,
    inFlightPerClient: 1,
    warmUpMs: 200,
    windowMs: 300,
  },
  storm: { reps: 1, clients: 30, rooms: 3, users: 3, messagesPerRoom: 2 },
  lighthouse: { runs: 1 },
};
