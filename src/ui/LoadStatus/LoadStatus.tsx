import { cancelLoad } from '../../state/actions';
import { useAppStore } from '../../state/appStore';

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Progress of the current load: stage, file, bytes, and the memory it will take (planned before the download); with cancel. */
export function LoadStatus() {
  const loading = useAppStore((s) => s.loading);
  if (!loading) return null;
  const p = loading.progress;
  const frac = p?.totalBytes ? p.loadedBytes / p.totalBytes : null;
  return (
    <div className="notice" role="status" aria-live="polite" data-testid="load-status" style={{ display: 'flex', gap: 12, alignItems: 'center', flexWrap: 'wrap' }}>
      <span>Loading {loading.label}: {p ? `${p.stage} ${p.file} ${mb(p.loadedBytes)}${p.totalBytes ? ` / ${mb(p.totalBytes)}` : ''}` : 'starting…'}</span>
      {p?.memory && <span className="muted" data-testid="load-memory" title={p.memory.reason}>memory: {p.memory.text}</span>}
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={frac === null ? undefined : Math.round(frac * 100)}>
        <div style={{ width: `${frac === null ? 10 : frac * 100}%` }} />
      </div>
      <button onClick={cancelLoad}>Cancel</button>
    </div>
  );
}
