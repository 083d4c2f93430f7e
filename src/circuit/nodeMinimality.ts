import type { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import { nodeId } from '../model/sites';
import { siteStage } from '../model/stages';
import { lossUpperBound } from './lossBound';
import { minimalityPass, weakestFirst, type CircuitMinimiser, type MinimalityOutcome, type RemovalJudge } from './minimality';
import type { NodeLayout } from './nodeLayout';
import { StagedListEvaluator, type StagedTrial } from './stagedListEval';

/**
 * The minimality pass (minimality.ts) over a node circuit. Each circuit is judged exactly as the runtime evaluates it:
 * the `circuit` intervention (every node outside the set ablated; with the layout's layer range, only within it)
 * through the staged forward pass, on the prompts the bisection judged, with the bisection's acceptance test
 * (lossUpperBound with the same z against the same target).
 * Dropping a node changes only the stage that computes its site, so each try recomputes from that stage on.
 */
export const nodeCircuitMinimiser = (
  model: SparseGpt,
  layout: NodeLayout,
  cfg: { targetLoss: number; selectionZ: number; maskFill: AblationMode },
): CircuitMinimiser<MinimalityOutcome<number>> => async (circuit, tau, prompts, hooks = {}) => {
  const evaluator = new StagedListEvaluator(model, prompts);
  const kept = new Set(circuit);
  const listOf = (nodes: Iterable<number>): Intervention[] => [
    {
      kind: 'circuit', nodes: [...nodes].sort((a, b) => a - b).map((i) => nodeId(layout.node(i))), mode: cfg.maskFill,
      ...(layout.layers ? { layers: layout.layers } : {}),
    },
  ];
  const judged = (t: StagedTrial) => lossUpperBound(t.diffs, cfg.selectionZ);
  const state: { pending: { item: number; trial: StagedTrial } | null } = { pending: null };
  const judge: RemovalJudge<number> = {
    async current(signal) {
      const t = await evaluator.run(listOf(kept), 0, signal);
      evaluator.adopt(t);
      return judged(t);
    },
    async without(item, signal) {
      const rest = [...kept].filter((i) => i !== item);
      const t = await evaluator.run(listOf(rest), siteStage(model.config, layout.node(item).site), signal);
      state.pending = { item, trial: t };
      return judged(t);
    },
    keep() {
      evaluator.adopt(state.pending!.trial);
      kept.delete(state.pending!.item);
      state.pending = null;
    },
    reject() {
      evaluator.discard(state.pending!.trial);
      state.pending = null;
    },
  };
  try {
    return await minimalityPass(weakestFirst(circuit, (i) => tau[i]!), judge, { targetLoss: cfg.targetLoss, ...hooks });
  } finally {
    evaluator.dispose();
  }
};
