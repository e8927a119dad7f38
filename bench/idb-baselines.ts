import { openFerryDb } from '../src/client/local-db.ts';
import type { SentMessage } from '../src/client/types.ts';
import type { StoredMessage } from '../src/shared/protocol.ts';

/** Server messages as the client stores them. */
export function asSent(messages: readonly StoredMessage[]): SentMessage[] {
  return messages.map((message) => ({ ...message, status: 'sent' }));
}

/** What happens to a baseline's database afterwards: Node deletes it (memory stays flat). */
export type AfterBaseline = 'delete' | 'keep';

/**
 * Baseline: the same records into a fresh database with Ferry's schema (same indexes), in
 * one transaction. Timed from the first put to the commit; opening is not timed.
 */
export async function bulkPutMs(
  dbName: string,
  records: readonly SentMessage[],
  after: AfterBaseline = 'delete',
): Promise<number> {
  const db = await openFerryDb(dbName);
  try {
    const start = performance.now();
    const tx = db.transaction('messages', 'readwrite');
    for (const record of records) void tx.store.put(record);
    await tx.done;
    return performance.now() - start;
  } finally {
    db.close();
    if (after === 'delete') await deleteDatabase(dbName);
  }
}

/**
 * Baseline: one transaction per message, each awaited (a naive "store each as it comes").
 * Starting them all at once instead was slower still in Chromium (10.3 s against 8.8 s).
 */
export async function putPerMessageMs(
  dbName: string,
  records: readonly SentMessage[],
  after: AfterBaseline = 'delete',
): Promise<number> {
  const db = await openFerryDb(dbName);
  try {
    const start = performance.now();
    for (const record of records) await db.put('messages', record);
    return performance.now() - start;
  } finally {
    db.close();
    if (after === 'delete') await deleteDatabase(dbName);
  }
}

/** Deletes an IndexedDB database; resolves whatever happens (it is cleanup). */
export function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => resolve();
    request.onblocked = () => resolve();
  });
}
