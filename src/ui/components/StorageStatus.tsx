import { useStoragePersistence } from '../hooks/useStoragePersistence.ts';
import './pwa.css';

/** Says so when the browser refused persistent storage: it may then clear the outbox. */
export function StorageStatus() {
  const persistence = useStoragePersistence();
  if (persistence !== 'refused') return null;
  return (
    <p className="storage-status" data-testid="storage-status" data-state={persistence}>
      Storage not guaranteed: the browser may clear unsent messages if space runs low.
    </p>
  );
}
