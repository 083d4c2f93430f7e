import { redo, removeIntervention, resetInterventions, setMode, setView, undo } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { describe } from '../../state/interventionOps';
import { useLiveStore } from '../../state/liveStore';
import { useAppStore } from '../../state/appStore';
import { stateSignature } from '../../state/liveRunner';
import { SessionFileButtons } from './SessionFileButtons';

/** Global ablation mode, full-model vs circuit view, undo/redo/reset and the editable list of active interventions. */
export function InterventionsPanel() {
  const iv = useExplorerStore((s) => s.iv);
  const mode = useExplorerStore((s) => s.mode);
  const view = useExplorerStore((s) => s.view);
  const hasCircuit = useLiveStore((s) => s.circuit !== null);
  useExplorerStore((s) => s.task); // re-render on task change too: the signature names it
  const signature = stateSignature();
  const hasMeans = useAppStore((s) => s.model?.hasMeans ?? false);
  return (
    <section className="panel" aria-label="Interventions">
      <h2>Interventions</h2>
      <div className="row">
        <fieldset className="seg">
          <legend className="muted small">ablate to</legend>
          <label><input type="radio" name="mode" checked={mode === 'mean'} disabled={!hasMeans} onChange={() => setMode('mean')} /> mean</label>
          <label><input type="radio" name="mode" checked={mode === 'zero'} onChange={() => setMode('zero')} /> zero</label>
        </fieldset>
        <fieldset className="seg">
          <legend className="muted small">view</legend>
          <label><input type="radio" name="view" checked={view === 'full'} onChange={() => setView('full')} /> full model</label>
          <label><input type="radio" name="view" checked={view === 'circuit'} disabled={!hasCircuit} onChange={() => setView('circuit')} /> restrict to circuit</label>
        </fieldset>
      </div>
      <div className="row">
        <button onClick={undo} disabled={!iv.past.length} aria-keyshortcuts="Control+Z">Undo</button>
        <button onClick={redo} disabled={!iv.future.length} aria-keyshortcuts="Control+Shift+Z">Redo</button>
        <button onClick={resetInterventions} disabled={!iv.present.length}>Reset</button>
        <SessionFileButtons />
      </div>
      <ul className="iv-list" data-testid="intervention-list" data-state={signature} aria-label="Active interventions">
        {iv.present.length === 0 && <li className="muted">none: click nodes or edges in the graph to ablate them</li>}
        {iv.present.map((x, i) => (
          <li key={`${i}:${describe(x)}`} data-testid="intervention">
            <span>{describe(x)}</span>
            <button aria-label={`Remove ${describe(x)}`} onClick={() => removeIntervention(i)}>×</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
