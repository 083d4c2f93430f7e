import type { SparseGpt } from '../model/forward';
import type { TaskFile } from '../tasks/taskSchema';
import { buildCircuitFile, type CircuitFileMeta } from './circuitFile';
import type { CircuitFile, CircuitGranularity } from './circuitSchema';
import { pruneTaskByEdges } from './edgePrune';
import { buildEdgeCircuitFile } from './edgePruneFile';
import { pruneTask, type PruneHooks } from './prune';

export interface FindCircuitHooks extends PruneHooks {
  /** Called once pruning is done, just before the test pairs are evaluated (the second, shorter stage). */
  onEvaluating?: () => void;
}

/**
 * One circuit search at either granularity: node pruning (prune.ts) or edge pruning (edgePrune.ts) of the task with
 * `meta.config`, then the outcome evaluated on the task's test pairs as a circuit file. The browser's search and every
 * control (control.ts) go through here. `npm run prune`'s own runs call the pruners directly: they keep the pruning
 * outcome (k_coef sweeps, bisection and minimality figures, separate eval timing), which the file does not carry.
 */
export async function findCircuit(
  granularity: CircuitGranularity,
  model: SparseGpt,
  task: TaskFile,
  meta: CircuitFileMeta,
  hooks: FindCircuitHooks = {},
): Promise<CircuitFile> {
  const { onEvaluating, ...pruneHooks } = hooks;
  if (granularity === 'edges') {
    const outcome = await pruneTaskByEdges(model, task, meta.config, pruneHooks);
    pruneHooks.signal?.throwIfAborted();
    onEvaluating?.();
    return buildEdgeCircuitFile(model, task, outcome, meta, pruneHooks);
  }
  const outcome = await pruneTask(model, task, meta.config, pruneHooks);
  pruneHooks.signal?.throwIfAborted();
  onEvaluating?.();
  return buildCircuitFile(model, model.ckpt, task, outcome, meta, pruneHooks);
}
