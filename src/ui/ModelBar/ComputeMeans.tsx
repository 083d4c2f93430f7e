import { useEffect } from 'react';
import { useAppStore } from '../../state/appStore';
import {
  cancelMeans, clearMeansFiles, computeMeans, pickMeansFiles, recountMeans, setMeansOpen, setMeansText, setMeansWindows, useMeansStore,
} from '../../state/meansActions';

const n = (v: number) => v.toLocaleString('en-US');

/**
 * "Compute means from text…": shown where the model information says mean ablation is unavailable. Text pasted or
 * .py/.txt files picked, the token count and windows that text gives (or why it cannot be used), then the job with a
 * progress bar and Cancel (src/state/meansActions.ts).
 */
export function ComputeMeans() {
  const model = useAppStore((s) => s.model);
  const s = useMeansStore();
  // Another model loaded while the panel is open: its tokenizer and context count the text anew.
  const stale = s.open && model !== null && !model.hasMeans && s.countFor !== model;
  useEffect(() => { if (stale) recountMeans(); }, [stale, model]);
  if (!model || model.hasMeans) return null;
  if (!s.open) {
    return (
      <div className="small">
        <button type="button" className="small" onClick={() => setMeansOpen(true)}
          title="mean ablation replaces a node with its mean over text; compute those means from Python code you give (as train/openai_import --means-corpus does)">
          Compute means from text…
        </button>
        {s.error && <p className="notice small" role="alert" data-testid="means-error">{s.error}</p>}
      </div>
    );
  }
  const count = s.countFor === model ? s.count : null;
  const busy = s.job !== null;
  const p = s.job?.progress;
  return (
    <div className="small" data-testid="compute-means">
      <label>
        Text to compute the means over (Python code, like the pretraining text)
        <textarea aria-label="Text for means" rows={6} style={{ width: '100%' }} value={s.pasted} disabled={busy} onChange={(e) => setMeansText(e.target.value)} />
      </label>
      <div>
        <label className="badge" style={{ cursor: busy ? 'default' : 'pointer' }}>
          or pick .py / .txt files…
          <input type="file" multiple accept=".py,.txt,text/plain,text/x-python" aria-label="Files for means" hidden disabled={busy}
            onChange={(e) => { void pickMeansFiles([...(e.target.files ?? [])]); e.target.value = ''; }} />
        </label>{' '}
        {s.files.length > 0 && (
          <span data-testid="means-files">
            {s.files.length} file(s): {s.files.map((f) => f.name).join(', ')}{' '}
            <button type="button" className="small" disabled={busy} onClick={clearMeansFiles}>Clear</button>
          </span>
        )}
      </div>
      <div>
        <label>windows <input type="number" min={1} step={1} aria-label="Means windows" style={{ width: '5em' }} value={s.windows} disabled={busy}
          onChange={(e) => setMeansWindows(Number(e.target.value), s.windowTokens)} /></label>{' '}
        <label>of up to <input type="number" min={1} step={1} aria-label="Means window tokens" style={{ width: '5em' }} value={s.windowTokens} disabled={busy}
          onChange={(e) => setMeansWindows(s.windows, Number(e.target.value))} /> tokens</label>
      </div>
      <p className="muted" data-testid="means-count">
        {count === null ? 'counting tokens…' : `${n(count.tokens)} tokens` + (count.problem ? '' : `: ${n(count.windows!)} windows of ${n(count.windowTokens!)} tokens`)}
      </p>
      {count?.problem && <p className="notice small" data-testid="means-problem">{count.problem}</p>}
      {busy ? (
        <div data-testid="means-progress">
          <progress aria-label="Means progress" max={p?.total || 1} value={p?.done ?? 0} /> {p?.stage ?? 'starting'}{' '}
          <button type="button" onClick={cancelMeans}>Cancel</button>
        </div>
      ) : (
        <div>
          <button type="button" disabled={count === null || count.problem !== null} onClick={() => void computeMeans()}>Compute means</button>{' '}
          <button type="button" onClick={() => setMeansOpen(false)}>Close</button>
        </div>
      )}
      {s.error && <p className="notice small" role="alert" data-testid="means-error">{s.error}</p>}
    </div>
  );
}
