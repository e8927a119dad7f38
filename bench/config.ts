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
};
