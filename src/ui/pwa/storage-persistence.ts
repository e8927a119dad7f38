/**
 * Whether the browser promised to keep Ferry's storage (the outbox included) under storage
 * pressure. `refused` is the browser's answer to `persist()`: best-effort storage, which
 * it may clear when the device runs low on space.
 */
export type StoragePersistence = 'checking' | 'persistent' | 'refused' | 'unsupported';

type PersistApi = Pick<StorageManager, 'persisted' | 'persist'>;

/**
 * Asks for persistent storage once it is not granted already. Chromium answers at once
 * from its own heuristics (installed, bookmarked, engagement); Firefox asks the user.
 */
export async function requestPersistence(
  storage: PersistApi | undefined,
): Promise<Exclude<StoragePersistence, 'checking'>> {
  if (!storage || typeof storage.persist !== 'function') return 'unsupported';
  try {
    if (await storage.persisted()) return 'persistent';
    return (await storage.persist()) ? 'persistent' : 'refused';
  } catch {
    return 'unsupported';
  }
}

let request: Promise<Exclude<StoragePersistence, 'checking'>> | null = null;

/** This page's one request (rooms come and go; the question is asked once per load). */
export function requestBrowserPersistence(): Promise<Exclude<StoragePersistence, 'checking'>> {
  request ??= requestPersistence(typeof navigator === 'undefined' ? undefined : navigator.storage);
  return request;
}
