import { defaultMemoryBudget, describePlan, fixedMemoryBudget, type MemoryBudget, type MemoryPlan } from '../model/memoryEstimate';
import type { EngineMemoryOptions, ModelMemory } from './protocol';

/** The memory the active backend offers a model in this worker: the ?memoryBudget= override, or the default. */
export function engineBudget(backend: string, opts: EngineMemoryOptions): MemoryBudget {
  if (opts.budgetBytes != null && opts.budgetBytes > 0) return fixedMemoryBudget(backend, opts.budgetBytes, 'set by ?memoryBudget=');
  const nav = (globalThis as { navigator?: { deviceMemory?: number } }).navigator;
  return defaultMemoryBudget(backend, { deviceMemoryGiB: nav?.deviceMemory ?? null });
}

/** The plan as the UI shows it; `kernel`, a note on how the sparse weights are multiplied, is added to its text when the
 *  linear weights are kept sparse (e.g. on how many threads, or why on one). */
export function modelMemory(p: MemoryPlan, kernel: string | null = null): ModelMemory {
  return {
    representation: p.representation,
    backend: p.budget.backend,
    steadyBytes: p.estimate.steadyBytes,
    peakBytes: p.estimate.peakBytes,
    denseSteadyBytes: p.dense.steadyBytes,
    sparseSteadyBytes: p.sparse?.steadyBytes ?? null,
    availableBytes: p.availableBytes,
    text: kernel && p.representation === 'sparse' ? `${describePlan(p)}; ${kernel}` : describePlan(p),
    reason: p.reason,
    prompt: p.prompt,
  };
}

/** Why edge pruning cannot run on a model in this representation, or null when it can. Node pruning runs on both
 *  (the sparse kernel is differentiable with respect to its input); edge pruning reads and masks every candidate
 *  weight entry as a dense matrix. */
export function edgePruneUnsupported(p: MemoryPlan): string | null {
  return p.representation === 'sparse'
    ? 'pruning by edges needs dense weights (it masks each candidate weight entry of a dense matrix), and this model\'s ' +
        'linear weights are kept sparse (see "weights in memory"); pruning by nodes works, also limited to a layer range'
    : null;
}
