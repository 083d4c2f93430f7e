import type { EdgePruneForward } from './edgePruneForward';
import { appliedMasks } from './edgePruneMasks';
import { lossUpperBound } from './lossBound';
import { minimalityPass, weakestFirst, type CircuitMinimiser, type RemovalJudge } from './minimality';

/**
 * The minimality pass (minimality.ts) over an edge circuit: each circuit is judged on the prompts the bisection judged,
 * with its acceptance test (lossUpperBound with the same z against the same target), through the edge-pruning forward
 * pass, which is the runtime's edge circuit (nodes follow from the kept edges; edgePruneMasks.ts).
 */
export const edgeCircuitMinimiser = (
  fwd: EdgePruneForward,
  cfg: { targetLoss: number; selectionZ: number; evalBatchSize: number },
): CircuitMinimiser => async (circuit, tau, prompts, hooks = {}) => {
  const mask = new Float32Array(fwd.candidates.edges.length);
  for (const e of circuit) mask[e] = 1;
  const judge = async (signal?: AbortSignal) =>
    lossUpperBound(await fwd.evalLogitDiffs(prompts, appliedMasks(fwd.candidates, mask), { batchSize: cfg.evalBatchSize, signal }), cfg.selectionZ);
  let tried = -1;
  const j: RemovalJudge<number> = {
    current: judge,
    async without(item, signal) {
      tried = item;
      mask[item] = 0;
      const l = await judge(signal);
      mask[item] = 1;
      return l;
    },
    keep: () => (mask[tried] = 0),
    reject: () => {},
  };
  return minimalityPass(weakestFirst(circuit, (e) => tau[e]!), j, { targetLoss: cfg.targetLoss, ...hooks });
};
