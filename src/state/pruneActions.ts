import type { CircuitGranularity } from '../circuit/circuitSchema';
import type { LayerRange } from '../model/layerRange';
import { engineClient } from './actions';
import { noCircuitNotice } from './explorerActions';
import { useAppStore } from './appStore';
import { useExplorerStore } from './explorerStore';
import { useLiveStore } from './liveStore';

const live = useLiveStore;

/** Default optimisation steps of "Find circuit" (the `npm run prune` default). */
export const DEFAULT_BROWSER_PRUNE_STEPS = 150;

let running: { id: number; task: string } | null = null;

/** What "Find circuit" runs besides pruning: the minimality pass (on unless turned off) and a control on random labels. */
export interface FindCircuitOptions {
  minimality?: boolean;
  control?: boolean;
  /** Prune nodes (default) or single edges (docs/circuits.md, "Pruning by edges"). */
  granularity?: CircuitGranularity;
  /** Node pruning only: the layers whose nodes are candidates (every other node kept); null or absent: every layer. */
  layers?: LayerRange | null;
  /** The size penalty per kept node or edge; absent: the method's default (the page offers suggestedKCoef's). */
  kCoef?: number;
}

/**
 * Prunes the loaded model on the current task's training pairs in the engine worker, then shows the circuit it found
 * in place of the shipped one (for this task, until the model changes or the user goes back).
 */
export async function findCircuit(steps: number, opts: FindCircuitOptions = {}): Promise<void> {
  const engine = engineClient();
  const { taskFile } = live.getState();
  const task = useExplorerStore.getState().task;
  if (!engine || !taskFile || !task || running) return;
  const hasMeans = useAppStore.getState().model?.hasMeans ?? false;
  const ablation = live.getState().shippedCircuit?.ablation ?? (hasMeans ? 'mean' : 'zero');
  live.setState({ pruneJob: { task, progress: null }, pruneError: null });
  const req = engine.request('prune', {
    task: taskFile, steps, ablation: ablation === 'mean' && !hasMeans ? 'zero' : ablation, minimality: opts.minimality ?? true, control: opts.control ?? false, granularity: opts.granularity ?? 'nodes',
    layers: opts.layers ?? null, kCoef: opts.kCoef,
  }, (progress) => {
    if (running?.id === req.id) live.setState({ pruneJob: { task, progress } });
  });
  running = { id: req.id, task };
  try {
    const { circuit, seconds } = await req.result;
    const found = { ...live.getState().found, [task]: { circuit, seconds } };
    live.setState({ found });
    if (useExplorerStore.getState().task === task) {
      live.setState({ circuit, taskNotice: null, reference: {}, current: null, currentKey: null });
      useExplorerStore.setState({ edgeThreshold: null, core: null });
    }
  } catch (e) {
    const err = e as Error;
    live.setState({ pruneError: err.name === 'AbortError' ? 'cancelled' : err.message });
  } finally {
    if (running?.id === req.id) running = null;
    live.setState({ pruneJob: null });
  }
}

export function cancelFindCircuit(): void {
  const engine = engineClient();
  if (engine && running) engine.cancel(running.id);
}

/** Drops the circuit found in this browser for the current task and shows the shipped one again. */
export function showShippedCircuit(): void {
  const task = useExplorerStore.getState().task;
  if (!task) return;
  const { [task]: _dropped, ...found } = live.getState().found;
  const shipped = live.getState().shippedCircuit;
  live.setState({
    found, circuit: shipped, pruneError: null, reference: {}, current: null, currentKey: null,
    taskNotice: shipped ? null : noCircuitNotice(task),
  });
  useExplorerStore.setState({ edgeThreshold: null, core: null });
}
