import { useEffect } from 'react';
import { cancelImportance, currentImportance, rankAgain, setImportanceOpen, startImportanceRunner } from '../../state/importanceActions';
import { useImportanceStore } from '../../state/importanceStore';
import { useLiveStore } from '../../state/liveStore';
import { CoreSlider } from './CoreSlider';
import { ImportanceList } from './ImportanceList';
import './importance.css';

/**
 * Which circuit nodes and edges the task needs most (the task loss when each is also ablated, computed in the engine
 * with progress and Cancel) and the core view: the graph limited to the N most important nodes.
 */
export function ImportancePanel() {
  useEffect(() => startImportanceRunner(), []);
  const open = useImportanceStore((s) => s.open);
  const result = useImportanceStore((s) => s.result);
  const progress = useImportanceStore((s) => s.progress);
  const error = useImportanceStore((s) => s.error);
  const circuit = useLiveStore((s) => s.circuit);
  const taskFile = useLiveStore((s) => s.taskFile);
  const job = circuit && taskFile ? currentImportance() : null;
  return (
    <section className="panel importance-panel" aria-label="Importance" data-testid="importance-panel">
      <h2>
        Importance
        <button type="button" className="small" aria-expanded={open} onClick={() => setImportanceOpen(!open)} disabled={!job && !open}
          title={job ? `rank the circuit's ${job.request.nodes.length} nodes and ${job.request.edges.length} edges on ${job.request.prompts.length} test prompts` : 'no circuit for this task'}>
          {open ? 'Close' : 'Rank nodes'}
        </button>
      </h2>
      {!open && <p className="muted small">how much the task loss rises when each circuit node (or edge) is also ablated; then a core view of the most important nodes</p>}
      {open && !job && <p className="muted small">no circuit for this task</p>}
      {open && job && progress && (
        <div className="small" data-testid="importance-progress">
          <progress aria-label="Importance progress" max={progress.total || 1} value={progress.done} />{' '}
          {progress.stage} ({progress.done}/{progress.total}){' '}
          <button type="button" onClick={cancelImportance}>Cancel</button>
        </div>
      )}
      {open && job && error && (
        <p className="notice small" data-testid="importance-error">
          ranking {error === 'cancelled' ? 'cancelled' : `failed: ${error}`} <button type="button" onClick={rankAgain}>Rank again</button>
        </p>
      )}
      {open && job && result && (
        <>
          <CoreSlider result={result} />
          <ImportanceList result={result} />
          <p className="muted small">
            task loss (uncalibrated, {job.request.prompts.length} test prompts, {job.request.mode} ablation) with the entry also ablated, minus the
            circuit's {result.circuit.loss.toFixed(4)} · {(result.millis / 1000).toFixed(1)} s
          </p>
        </>
      )}
    </section>
  );
}
