import type { SparseGpt } from '../model/forward';
import { tf } from '../model/tfjs';
import type { TaskFile, TaskPrompt } from '../tasks/taskSchema';
import { edgeCandidates, type EdgeCandidates } from './edgePruneCandidates';
import { disposeEdgeMasks, deviceEdgeMasks, EdgePruneForward, gradsToHost, maskList } from './edgePruneForward';
import { appliedMasks, edgeMaskGrad, type AppliedMasks } from './edgePruneMasks';
import { heavisideSurrogateGrad } from './heaviside';
import { edgeCircuitMinimiser } from './edgePruneMinimality';
import { now, pruneWithMasks, type MaskStep, type SizeSearchOutcome } from './maskPruning';
import { DEFAULT_PRUNE_CONFIG, type PruneConfig, type PruneHooks } from './prune';
import { makeTaskBatch, taskLossTensor } from './taskBatch';

/**
 * Edge pruning (docs/circuits.md, "Pruning by edges"): one mask parameter tau per candidate edge (edgeCandidates),
 * kept where tau >= 0, with the sigmoid surrogate of the step in the backward pass; nodes follow from their edges
 * (edgePruneMasks). Objective: task loss + kCoef * (number of kept edges). Then, as for nodes: edges ranked by tau,
 * the smallest top-k edge circuit meeting the target on the held-back pairs (one standard error of margin) found by
 * bisection (searchCircuitSize), and the logit scale and shift fitted on all training pairs.
 */

/** Defaults of `npm run prune -- --granularity edges`: node pruning's, with the sparsity coefficient per edge. */
export const DEFAULT_EDGE_PRUNE_CONFIG: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, kCoef: 2e-3 };

export interface EdgePruneOutcome extends SizeSearchOutcome {
  candidates: EdgeCandidates;
  /** The circuit's edge indices (candidate order for tau and ranking), strongest first; k is their number. */
  edges: number[];
}

/** Host 0/1 mask over `total` candidate edges keeping the given ones. */
export function edgeMask(total: number, kept: Iterable<number>): Float32Array {
  const m = new Float32Array(total);
  for (const e of kept) m[e] = 1;
  return m;
}

/** Host 0/1 edge mask keeping the first k edges of a ranking. */
export function topKEdgeMask(total: number, ranking: readonly number[], k: number): Float32Array {
  return edgeMask(total, ranking.slice(0, k));
}

/** Hard 0/1 masks of tau (H(tau)). */
function hard(tau: Float32Array): Float32Array {
  return tau.map((t) => (t >= 0 ? 1 : 0));
}

/** One optimisation step's value and gradient: mean task loss at the hard masks and dL/dm per edge. */
async function lossAndGrad(fwd: EdgePruneForward, prompts: readonly TaskPrompt[], m: Float32Array): Promise<{ loss: number; grad: Float32Array }> {
  const c = fwd.candidates;
  const applied: AppliedMasks = appliedMasks(c, m);
  const masks = deviceEdgeMasks(c, applied);
  const batch = makeTaskBatch(prompts, fwd.model.config.vocabSize, fwd.model.config.blockSize);
  try {
    const list = maskList(masks);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
      const byOrder = rebind(masks, xs);
      return taskLossTensor(fwd.logitDiffs(batch, byOrder));
    })(list);
    const [v, ...gs] = (await Promise.all([value.data(), ...grads.map((g) => g.data())])) as Float32Array[];
    value.dispose();
    for (const g of grads) g.dispose();
    const { gNode, gEff } = gradsToHost(c, masks, gs);
    return { loss: v![0]!, grad: edgeMaskGrad(c, m, applied, gEff, gNode) };
  } finally {
    batch.dispose();
    disposeEdgeMasks(masks);
  }
}

/** The same mask set with its tensors replaced, in maskList order, by the differentiated inputs. */
function rebind(m: ReturnType<typeof deviceEdgeMasks>, xs: tf.Tensor[]): ReturnType<typeof deviceEdgeMasks> {
  let i = 0;
  const take = <T extends tf.Tensor>(map: Map<string, T>) => new Map([...map.keys()].map((k) => [k, xs[i++] as T]));
  return { node: take(m.node), weight: take(m.weight), residual: take(m.residual), qk: take(m.qk) };
}

/** One step of edge mask learning: dL/dm per edge at the hard masks, then the chain rule through the straight-through
 *  step, count penalty included (d/dtau of kCoef * H(tau) with the surrogate). */
function edgeMaskStep(fwd: EdgePruneForward, cfg: PruneConfig): MaskStep {
  return async (prompts, tau) => {
    const { loss, grad } = await lossAndGrad(fwd, prompts, hard(tau));
    for (let e = 0; e < tau.length; e++) grad[e] = (grad[e]! + cfg.kCoef) * heavisideSurrogateGrad(tau[e]!, cfg.temperature);
    return { loss, grad };
  };
}

/** Runs the whole method on a task's training pairs. */
export async function pruneTaskByEdges(model: SparseGpt, task: TaskFile, config: Partial<PruneConfig> = {}, hooks: PruneHooks = {}): Promise<EdgePruneOutcome> {
  const cfg: PruneConfig = { ...DEFAULT_EDGE_PRUNE_CONFIG, ...config };
  const t0 = now();
  const candidates = edgeCandidates(model.ckpt);
  const fwd = new EdgePruneForward(model, candidates, cfg.maskFill);
  try {
    const E = candidates.edges.length;
    const evalOpts = { batchSize: cfg.evalBatchSize, signal: hooks.signal };
    const { items, ...found } = await pruneWithMasks({
      total: E,
      step: edgeMaskStep(fwd, cfg),
      circuitLogitDiffs: (prompts, edges) => fwd.evalLogitDiffs(prompts, appliedMasks(candidates, edgeMask(E, edges)), evalOpts),
      minimise: edgeCircuitMinimiser(fwd, cfg),
    }, task, cfg, hooks);
    return { candidates, ...found, edges: items, seconds: (now() - t0) / 1000 };
  } finally {
    fwd.dispose();
  }
}
