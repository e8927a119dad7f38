import { useEffect, useState } from 'react';
import { requestBrowserPersistence, type StoragePersistence } from '../pwa/storage-persistence.ts';

/** Asks for persistent storage (once per page load) and answers what the browser said. */
export function useStoragePersistence(): StoragePersistence {
  const [persistence, setPersistence] = useState<StoragePersistence>('checking');
  useEffect(() => {
    let current = true;
    void requestBrowserPersistence().then((answer) => {
      if (current) setPersistence(answer);
    });
    return () => {
      current = false;
    };
  }, []);
  return persistence;
}
