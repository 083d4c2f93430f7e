import { cancelEval } from '../../state/liveRunner';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { fmt } from '../shared/liveSelectors';

/** Task loss and accuracy over the test pairs: full model, circuit and the current state, with evaluation progress. */
export function MetricsTable() {
  const mode = useExplorerStore((s) => s.mode);
  const reference = useLiveStore((s) => s.reference);
  const current = useLiveStore((s) => s.current);
  const circuit = useLiveStore((s) => s.circuit);
  const progress = useLiveStore((s) => s.evalProgress);
  const error = useLiveStore((s) => s.evalError);
  const forState = useLiveStore((s) => s.currentFor);
  const prompts = useLiveStore((s) => (s.taskFile ? s.taskFile.test.length * 2 : 0));
  if (!prompts) return null;
  const rows = [
    { label: 'full', name: 'full model', m: reference[`full|${mode}`] },
    ...(circuit ? [{ label: 'circuit', name: `circuit (${circuit.nodes.length} nodes)`, m: reference[`circuit|${mode}`] }] : []),
    { label: 'current', name: 'current', m: current ?? undefined },
  ];
  return (
    <div data-testid="task-metrics" data-for={forState ?? undefined} aria-busy={progress !== null}>
      <table className="metrics">
        <caption className="muted small">over {prompts} test prompts, {mode} ablation</caption>
        <thead><tr><th /><th>loss</th><th>accuracy</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-variant={r.label} data-loss={r.m?.loss} data-accuracy={r.m?.accuracy}>
              <td>{r.name}</td><td>{fmt(r.m?.loss)}</td><td>{r.m ? `${(r.m.accuracy * 100).toFixed(1)}%` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {circuit && (
        <p className="muted small">
          from the circuit file: full {fmt(circuit.full_model_loss)}, circuit {fmt(circuit.circuit_loss)}
          {circuit.circuit_loss_calibrated !== undefined && ` (calibrated ${fmt(circuit.circuit_loss_calibrated)})`}, target {fmt(circuit.target_loss)}
        </p>
      )}
      {progress && (
        <div className="eval-progress" role="status">
          <span className="small">{progress.stage} {progress.done}/{progress.total}</span>
          <div className="progress" role="progressbar" aria-label="Task evaluation" aria-valuemin={0} aria-valuemax={progress.total} aria-valuenow={progress.done}>
            <div style={{ width: `${(100 * progress.done) / progress.total}%` }} />
          </div>
          <button onClick={cancelEval}>Cancel</button>
        </div>
      )}
      {error && <p className="error small" role="alert">{error}</p>}
    </div>
  );
}
