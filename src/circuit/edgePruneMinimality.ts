import type { EdgePruneForward } from './edgePruneForward';
import { appliedMasks } from './edgePruneMasks';
import { gallopingMinimalityPass, type SetRemovalJudge } from './gallopingMinimality';
import { lossUpperBound } from './lossBound';
import { weakestFirst, type CircuitMinimiser } from './minimality';

/**
 * The minimality pass over an edge circuit: each circuit is judged on the prompts the bisection judged, with its
 * acceptance test (lossUpperBound with the same z against the same target), through the edge-pruning forward pass,
 * which is the runtime's edge circuit (nodes follow from the kept edges; edgePruneMasks.ts). Every try is a whole
 * forward pass, so removals are tried in growing blocks along the weakest-first order (gallopingMinimality.ts): the
 * plain pass's result whenever dropping edges never lowers the loss, at a fraction of the evaluations when a
 * bisection at a large k leaves hundreds of removable edges.
 */
export const edgeCircuitMinimiser = (
  fwd: EdgePruneForward,
  cfg: { targetLoss: number; selectionZ: number; evalBatchSize: number },
): CircuitMinimiser => async (circuit, tau, prompts, hooks = {}) => {
  const mask = new Float32Array(fwd.candidates.edges.length);
  for (const e of circuit) mask[e] = 1;
  const judge = async (signal?: AbortSignal) =>
    lossUpperBound(await fwd.evalLogitDiffs(prompts, appliedMasks(fwd.candidates, mask), { batchSize: cfg.evalBatchSize, signal }), cfg.selectionZ);
  let tried: readonly number[] = [];
  const j: SetRemovalJudge<number> = {
    current: judge,
    async without(items, signal) {
      tried = items;
      for (const e of items) mask[e] = 0;
      const l = await judge(signal);
      for (const e of items) mask[e] = 1;
      return l;
    },
    keep: () => { for (const e of tried) mask[e] = 0; },
    reject: () => {},
  };
  return gallopingMinimalityPass(weakestFirst(circuit, (e) => tau[e]!), j, { targetLoss: cfg.targetLoss, ...hooks });
};
