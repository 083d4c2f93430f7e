import { useRef } from 'react';
import { cancelEval, stateSignature } from '../../state/liveRunner';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { knownRow } from '../../state/metricRows';
import { taskMetricVariants } from '../../state/variants';
import { fmt } from '../shared/liveSelectors';
import type { TaskVariantMetrics } from '../../worker/protocol';

/** What "calibrated" means, for the row's tooltip. */
function calibrationTitle(m: TaskVariantMetrics, targets: readonly [string, string] | undefined): string | undefined {
  const c = m.calibration;
  if (!c) return undefined;
  return `Calibrated like the circuit file's test loss: after pruning, the paper fits one scalar scale and one shift of ` +
    `the circuit's logits on the training pairs. Here both candidate logits are multiplied by logit_scale = ${c.scale.toFixed(4)} ` +
    `and logit_shift = ${c.shift.toFixed(4)} is added to the logit of ${JSON.stringify(targets?.[0] ?? `token ${c.reference}`)}. ` +
    `Uncalibrated: loss ${fmt(m.uncalibrated.loss)}, accuracy ${(m.uncalibrated.accuracy * 100).toFixed(1)}%. The full model is not calibrated.`;
}

/**
 * Task loss and accuracy over the test pairs: full model, circuit and the current state, with evaluation progress.
 * A row whose value belongs to an earlier state (a toggle or a mode switch not evaluated yet) keeps it on screen
 * dimmed, with aria-busy and the title "updating…", until the new value lands.
 */
export function MetricsTable() {
  const mode = useExplorerStore((s) => s.mode);
  const view = useExplorerStore((s) => s.view);
  const interventions = useExplorerStore((s) => s.iv.present);
  const reference = useLiveStore((s) => s.reference);
  const current = useLiveStore((s) => s.current);
  const circuit = useLiveStore((s) => s.circuit);
  const progress = useLiveStore((s) => s.evalProgress);
  const error = useLiveStore((s) => s.evalError);
  const forState = useLiveStore((s) => s.currentFor);
  const prompts = useLiveStore((s) => (s.taskFile ? s.taskFile.test.length * 2 : 0));
  const targets = useLiveStore((s) => s.taskFile?.target_tokens);
  const state = useExplorerStore(() => stateSignature());
  // The last value each row showed: while its new value is computed it stays on screen, marked stale.
  const shown = useRef<{ task: unknown; rows: Record<string, TaskVariantMetrics> }>({ task: null, rows: {} });
  const task = useLiveStore((s) => s.taskFile);
  if (shown.current.task !== task) shown.current = { task, rows: {} }; // another task's numbers are no placeholder
  if (!prompts) return null;
  const cal = (m: TaskVariantMetrics | undefined) => (m?.calibration ? ' (calibrated)' : '');
  const row = (label: string, fresh: TaskVariantMetrics | undefined) => {
    if (fresh) shown.current.rows[label] = fresh;
    return { label, m: fresh ?? shown.current.rows[label], stale: !fresh };
  };
  // A row computed under the other mode with the same content (the full model's) is this mode's value at once.
  const variants = task ? taskMetricVariants(view, circuit, mode, interventions, task) : [];
  const known = (label: string) => {
    const v = variants.find((w) => w.label === label);
    return reference[`${label}|${mode}`] ?? (task && v ? knownRow(task, v) : undefined);
  };
  const circuitRow = row('circuit', circuit ? known('circuit') : undefined);
  const currentRow = row('current', forState === state ? (current ?? undefined) : undefined);
  const rows = [
    { ...row('full', known('full')), name: 'full model' },
    ...(circuit ? [{ ...circuitRow, name: `circuit${cal(circuitRow.m)} (${circuit.nodes.length} nodes)` }] : []),
    { ...currentRow, m: currentRow.m ?? current ?? undefined, name: `current${cal(currentRow.m)}` },
  ];
  return (
    <div data-testid="task-metrics" data-for={forState ?? undefined} aria-busy={progress !== null}>
      <table className="metrics">
        <caption className="muted small">over {prompts} test prompts, {mode} ablation</caption>
        <thead><tr><th /><th>loss</th><th>accuracy</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-variant={r.label} data-loss={r.m?.loss} data-accuracy={r.m?.accuracy} data-calibrated={r.m ? String(!!r.m.calibration) : undefined}
              data-uncalibrated-loss={r.m?.uncalibrated.loss} data-uncalibrated-accuracy={r.m?.uncalibrated.accuracy}
              data-stale={r.stale} aria-busy={r.stale} className={r.stale ? 'stale' : undefined}>
              <td title={r.m ? calibrationTitle(r.m, targets) : undefined}>{r.name}</td>
              <td title={r.stale ? 'updating…' : undefined}>{fmt(r.m?.loss)}</td>
              <td title={r.stale ? 'updating…' : undefined}>{r.m ? `${(r.m.accuracy * 100).toFixed(1)}%` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {circuit && (
        <p className="muted small" data-testid="circuit-file-metrics" data-circuit-loss={circuit.circuit_loss} data-circuit-loss-calibrated={circuit.circuit_loss_calibrated}>
          from the circuit file: full {fmt(circuit.full_model_loss)}, circuit {fmt(circuit.circuit_loss)}
          {circuit.circuit_loss_calibrated !== undefined && ` (calibrated ${fmt(circuit.circuit_loss_calibrated)})`}, target {fmt(circuit.target_loss)}
          {circuit.ablation !== mode && ` · the circuit's calibration was fitted under ${circuit.ablation} ablation, so it is not applied under ${mode}`}
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
