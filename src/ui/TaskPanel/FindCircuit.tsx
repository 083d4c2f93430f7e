import { useState } from 'react';
import { circuitGranularity, type CircuitGranularity } from '../../circuit/circuitSchema';
import { useAppStore } from '../../state/appStore';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { cancelFindCircuit, DEFAULT_BROWSER_PRUNE_STEPS, findCircuit, showShippedCircuit } from '../../state/pruneActions';
import { readMachineUrl } from '../../state/urlSync';

function initialSteps(): number {
  return readMachineUrl().pruneSteps ?? DEFAULT_BROWSER_PRUNE_STEPS;
}

/** Runs node pruning for the current task in the engine worker, with progress and cancel; labels a found circuit. */
export function FindCircuit() {
  const task = useExplorerStore((s) => s.task);
  const taskFile = useLiveStore((s) => s.taskFile);
  const job = useLiveStore((s) => s.pruneJob);
  const error = useLiveStore((s) => s.pruneError);
  const found = useLiveStore((s) => (task ? s.found[task] : undefined));
  const circuit = useLiveStore((s) => s.circuit);
  const shipped = useLiveStore((s) => s.shippedCircuit);
  const model = useAppStore((s) => s.model);
  const [steps, setSteps] = useState(initialSteps);
  const [minimality, setMinimality] = useState(true);
  const [control, setControl] = useState(false);
  const [granularity, setGranularity] = useState<CircuitGranularity>('nodes');
  if (!taskFile || !model) return null;
  const showingFound = !!found && circuit === found.circuit;
  const p = job?.progress;
  return (
    <div className="find-circuit" data-testid="find-circuit">
      <div className="row">
        <button type="button" onClick={() => void findCircuit(steps, { minimality, control, granularity })} disabled={!!job || !(steps >= 1) || !!model.pruneUnsupported}
          title={model.pruneUnsupported ?? `prune ${model.id} on the ${taskFile.train.length} training pairs of ${taskFile.task}, here in the browser`}>
          Find circuit
        </button>
        <label className="small">
          steps{' '}
          <input type="number" aria-label="Pruning steps" min={1} step={1} value={steps} disabled={!!job} style={{ width: '5em' }}
            onChange={(e) => setSteps(Math.max(1, Math.floor(Number(e.target.value) || 1)))} />
        </label>
        <label className="small" title="What pruning keeps or removes: whole nodes, or single edges (nodes then follow from the kept edges)">
          prune{' '}
          <select aria-label="Pruning granularity" value={granularity} disabled={!!job} onChange={(e) => setGranularity(e.target.value as CircuitGranularity)}>
            <option value="nodes">nodes</option>
            <option value="edges">edges</option>
          </select>
        </label>
        <label className="small" title="After the bisection, drop each kept node (weakest mask first) whose removal keeps the circuit at the target">
          <input type="checkbox" checked={minimality} disabled={!!job} onChange={(e) => setMinimality(e.target.checked)} /> minimality pass
        </label>
        <label className="small" title="Also prune the same prompts with randomly flipped labels, as a control (takes twice as long)">
          <input type="checkbox" checked={control} disabled={!!job} onChange={(e) => setControl(e.target.checked)} /> control
        </label>
        {job && <button type="button" onClick={cancelFindCircuit}>Cancel</button>}
      </div>
      {job && (
        <div className="small" data-testid="prune-progress">
          <progress aria-label="Pruning progress" max={p?.total || 1} value={p?.done ?? 0} />{' '}
          {p ? `${p.stage} (${p.done}/${p.total})` : 'starting…'}
        </div>
      )}
      {error && <p className="notice small" data-testid="prune-error">Find circuit: {error}</p>}
      {showingFound && (
        <p className="small" data-testid="found-circuit">
          <strong>Circuit found in this browser</strong>: k {found.circuit.k} · nodes {found.circuit.nodes.length} · edges {found.circuit.edge_count} ·
          loss {found.circuit.circuit_loss.toFixed(3)} (test) · {found.circuit.prune_config?.steps as number} steps in {found.seconds.toFixed(1)} s
          {circuitGranularity(found.circuit) === 'edges' && ' · pruned by edges'}
          {found.circuit.reached_target === false && ' · target loss not reached (try more steps)'}{' '}
          <button type="button" onClick={showShippedCircuit}>{shipped ? 'Back to shipped circuit' : 'Discard'}</button>
        </p>
      )}
    </div>
  );
}
