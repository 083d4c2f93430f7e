import { useState } from 'react';
import { circuitGranularity, type CircuitGranularity } from '../../circuit/circuitSchema';
import { isValidKCoef, suggestedKCoef, type KCoefSource } from '../../circuit/suggestedKCoef';
import { formatLayerRange, parseLayerRange, type LayerRange } from '../../model/layerRange';
import { useAppStore } from '../../state/appStore';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { cancelFindCircuit, DEFAULT_BROWSER_PRUNE_STEPS, findCircuit, showShippedCircuit } from '../../state/pruneActions';
import { readMachineUrl } from '../../state/urlSync';
import type { ModelSummary } from '../../worker/protocol';

function initialSteps(): number {
  return readMachineUrl().pruneSteps ?? DEFAULT_BROWSER_PRUNE_STEPS;
}

/** The layer range offered first: every layer, except on a model whose weights are kept sparse (a large one) its last
 *  layer, where a pruning step costs a fraction of a whole-model one. */
function defaultLayersText(model: ModelSummary): string {
  return model.memory.representation === 'sparse' ? formatLayerRange([model.nLayer - 1, model.nLayer - 1]) : 'all';
}

/** The typed range, or why it cannot be used. */
function readLayers(text: string, nLayer: number): { layers: LayerRange | null; problem: string | null } {
  try {
    return { layers: parseLayerRange(text, { nLayer }), problem: null };
  } catch (e) {
    return { layers: null, problem: (e as Error).message };
  }
}

const SOURCE_TEXT: Record<KCoefSource, string> = {
  'shipped circuit': "this task's shipped circuit, pruned the same way",
  default: 'the default',
  'dense-model default': 'the default for edges on a dense model',
};

/** Runs pruning (by nodes or by edges) for the current task in the engine worker, with progress and cancel; labels a
 *  found circuit. A typed k_coef belongs to its model, task and granularity: any other shows its own suggestion. */
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
  // The typed range belongs to the model it was typed for; another model starts from its own default.
  const [typedLayers, setTypedLayers] = useState<{ model: string; text: string } | null>(null);
  // Likewise a typed k_coef belongs to its model, task and granularity; otherwise the suggestion is shown.
  const [typedKCoef, setTypedKCoef] = useState<{ key: string; text: string } | null>(null);
  if (!taskFile || !model) return null;
  const layersText = typedLayers?.model === model.id ? typedLayers.text : defaultLayersText(model);
  const byEdges = granularity === 'edges';
  const range = readLayers(layersText, model.nLayer);
  const suggestion = suggestedKCoef(shipped, granularity, { nonzero: model.nonzeroWeights, total: model.totalWeights });
  const kCoefKey = `${model.id}/${taskFile.task}/${granularity}`;
  const kCoefText = typedKCoef?.key === kCoefKey ? typedKCoef.text : String(suggestion.kCoef);
  const kCoef = Number(kCoefText);
  // Number('') is 0, so an empty field is refused like any other value that is not above 0.
  const kCoefProblem = isValidKCoef(kCoef) ? null : `k_coef must be a number above 0 (got "${kCoefText}")`;
  const blocked = (byEdges ? model.edgePruneUnsupported : range.problem) ?? kCoefProblem;
  const showingFound = !!found && circuit === found.circuit;
  const p = job?.progress;
  return (
    <div className="find-circuit" data-testid="find-circuit">
      <div className="row">
        <button type="button" onClick={() => void findCircuit(steps, { minimality, control, granularity, layers: byEdges ? null : range.layers, kCoef })}
          disabled={!!job || !(steps >= 1) || !!blocked}
          title={blocked ?? `prune ${model.id} on the ${taskFile.train.length} training pairs of ${taskFile.task}, here in the browser`}>
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
        <label className="small" title={byEdges ? 'Pruning by edges runs over every layer'
          : `Only nodes of these layers are pruned ("first-last", one layer, or "all" of 0-${model.nLayer - 1}); nodes of other layers are always kept`}>
          layers{' '}
          <input type="text" aria-label="Pruning layers" value={byEdges ? 'all' : layersText} disabled={!!job || byEdges} style={{ width: '4em' }}
            onChange={(e) => setTypedLayers({ model: model.id, text: e.target.value })} />
        </label>
        <label className="small" title={`Size penalty per kept ${byEdges ? 'edge' : 'node'} (objective: task loss + k_coef × kept); suggested: ${suggestion.kCoef} (${SOURCE_TEXT[suggestion.source]})`}>
          k_coef{' '}
          <input type="text" inputMode="decimal" aria-label="Pruning k_coef" value={kCoefText} disabled={!!job} style={{ width: '4.5em' }}
            onChange={(e) => setTypedKCoef({ key: kCoefKey, text: e.target.value })} />
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
      {!byEdges && range.problem && <p className="notice small" data-testid="prune-layers-problem">{range.problem}</p>}
      {kCoefProblem && <p className="notice small" data-testid="prune-kcoef-problem">{kCoefProblem}</p>}
      {error && <p className="notice small" data-testid="prune-error">Find circuit: {error}</p>}
      {showingFound && (
        <p className="small" data-testid="found-circuit">
          <strong>Circuit found in this browser</strong>: k {found.circuit.k} · nodes {found.circuit.nodes.length} · edges {found.circuit.edge_count} ·
          loss {found.circuit.circuit_loss.toFixed(3)} (test) · {found.circuit.prune_config?.steps as number} steps at k_coef {String(found.circuit.prune_config?.kCoef)}, {found.seconds.toFixed(1)} s
          {circuitGranularity(found.circuit) === 'edges' && ' · pruned by edges'}
          {found.circuit.layers && ` · layers ${formatLayerRange(found.circuit.layers)} only (other layers kept)`}
          {found.circuit.reached_target === false && ' · target loss not reached (try more steps)'}{' '}
          <button type="button" onClick={showShippedCircuit}>{shipped ? 'Back to shipped circuit' : 'Discard'}</button>
        </p>
      )}
    </div>
  );
}
