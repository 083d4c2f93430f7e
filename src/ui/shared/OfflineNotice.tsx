import { useSyncExternalStore } from 'react';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
}

/** A note while the browser is offline: the app and the models it already loaded keep working from the cache. */
export function OfflineNotice() {
  const online = useSyncExternalStore(subscribe, () => navigator.onLine, () => true);
  if (online) return null;
  return (
    <div className="notice" role="status" data-testid="offline">
      Offline: the explorer runs from its cache; models loaded before keep working, others need the network.
    </div>
  );
}
