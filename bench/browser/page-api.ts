import type { SentMessage } from '../../src/client/types.ts';

/** What the bench page offers the Node side (through `page.evaluate`). Times are in ms. */
export interface BenchPageApi {
  /**
   * Creates a device (engine over this browser's IndexedDB) that joins `room`, loads its
   * `storedBefore` messages, then goes offline.
   */
  prepareOfflineDevice(room: string, storedBefore: number): Promise<void>;
  /** Brings the prepared device online; ms until `expected` messages are stored and merged. */
  catchUpMs(room: string, expected: number): Promise<number>;
  /** Keeps the baselines' records in the page (sent once, not at every repetition). */
  loadRecords(records: SentMessage[]): void;
  /** The bulk-put baseline on this browser's IndexedDB, with the loaded records. */
  bulkPutMs(): Promise<number>;
  /** The one-transaction-per-message baseline on this browser's IndexedDB. */
  putPerMessageMs(): Promise<number>;
}

declare global {
  interface Window {
    ferryBench?: BenchPageApi;
  }
}
