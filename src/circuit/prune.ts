import type { SparseGpt } from '../model/forward';
import type { AblationMode } from '../model/interventions';
import type { LayerRange } from '../model/layerRange';
import { tf } from '../model/tfjs';
import type { TaskFile, TaskPrompt } from '../tasks/taskSchema';
import { heavisideST } from './heaviside';
import { now, optimiseMasks, pruneWithMasks, type LearnedMasks, type MaskStep, type SizeSearchOutcome } from './maskPruning';
import { disposeMasks, NodeLayout } from './nodeLayout';
import { evalLogitDiffs, logitDiffs, makeTaskBatch, taskLossTensor } from './taskBatch';
import { nodeCircuitMinimiser } from './nodeMinimality';

/**
 * Node pruning as in Gao et al. (2025), App. A.5: one mask parameter tau per node at every hook site; the forward
 * pass keeps a node where tau >= 0 and replaces it by its mean (or 0) elsewhere; the backward pass uses a sigmoid
 * surrogate of the step (heavisideST). The objective is task loss + kCoef * (number of kept nodes). After
 * optimisation the nodes are ranked by tau and the smallest top-k circuit whose task loss on held-back training pairs
 * is at most targetLoss (with selectionZ standard errors of margin) is found by bisection; then a scalar scale and
 * shift of the logit difference is fitted.
 */
export interface PruneConfig {
  steps: number;
  /** Contrast pairs per step (2 prompts each). */
  batchPairs: number;
  lr: number;
  /** Fraction of steps with linear LR warmup; the rest decays linearly to 0. */
  warmupFrac: number;
  kCoef: number;
  temperature: number;
  initMean: number;
  initStd: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  gradClip: number;
  targetLoss: number;
  maskFill: AblationMode;
  seed: number;
  /** Prompts per forward pass when evaluating. */
  evalBatchSize: number;
  /** At most this many prompts are used by the bisection (a fixed seeded subset). */
  bisectPrompts: number;
  /**
   * Share of the training pairs held back from mask learning and used only by the bisection (0: masks and bisection
   * both see every training pair). Choosing k on pairs the masks were not fitted to removes the optimism of judging
   * a circuit on the prompts it was learned from; tasks with fewer than MIN_VALIDATION_PAIRS such pairs use all.
   */
  validationFraction: number;
  /**
   * The bisection accepts a circuit when its mean loss on the judged prompts plus this many standard errors is at
   * most targetLoss (lossUpperBound). 0 is the paper's rule; 1 makes the chosen circuit hold the target on new prompts.
   */
  selectionZ: number;
  /**
   * After the bisection, try dropping each kept node, lowest tau first, and keep every removal after which the circuit
   * still passes the bisection's acceptance test on the same prompts (nodeMinimality.ts). Off: the top-k circuit.
   */
  minimality: boolean;
  /**
   * Only the nodes of these layers, [first, last] (layerRange.ts: their attn.* and mlp.* sites, and final_resid when
   * last is the model's last layer), get mask parameters; every other node is kept throughout (optimisation,
   * bisection, minimality, calibration and the test-pair evaluation). null: every node of the model.
   */
  layers: LayerRange | null;
}

export const DEFAULT_PRUNE_CONFIG: PruneConfig = {
  steps: 300,
  batchPairs: 16,
  lr: 1e-2,
  warmupFrac: 0,
  kCoef: 1e-3,
  temperature: 1,
  initMean: 0.1,
  initStd: 0.01,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 1e-3,
  gradClip: 1,
  targetLoss: 0.15,
  maskFill: 'mean',
  seed: 0,
  evalBatchSize: 64,
  bisectPrompts: 256,
  validationFraction: 0.25,
  selectionZ: 1,
  minimality: true,
  layers: null,
};

export type PrunePhase = 'optimise' | 'bisect' | 'minimality' | 'calibrate';

export interface PruneProgress {
  phase: PrunePhase;
  /** Steps (optimise), probes (bisect) or tried nodes (minimality) done so far, and the planned total (bisect: an
   *  estimate). */
  done: number;
  total: number;
  /** Minibatch task loss at the current hard masks (optimise), training loss of the probed circuit (bisect) or the
   *  loss bound of the circuit as it stands (minimality). */
  loss?: number;
  /** Nodes with tau >= 0 (optimise), the probed k (bisect) or the nodes still kept (minimality). */
  kept?: number;
}

export interface PruneHooks {
  onProgress?: (p: PruneProgress) => void;
  signal?: AbortSignal;
}

export interface PruneOutcome extends SizeSearchOutcome {
  layout: NodeLayout;
  /** The circuit's node indices (layout order for tau and ranking), strongest first; k is their number. */
  nodes: number[];
}

/** One step of node mask learning: the task loss with heavisideST masks (mean or zero fill) plus kCoef per kept node,
 *  differentiated with respect to tau directly. */
function nodeMaskStep(model: SparseGpt, layout: NodeLayout, cfg: PruneConfig): MaskStep {
  const { vocabSize, blockSize } = model.config;
  return async (prompts, tau, kept) => {
    const batch = makeTaskBatch(prompts, vocabSize, blockSize);
    const tauT = tf.tensor1d(tau);
    try {
      const f = (t: tf.Tensor1D): tf.Scalar => {
        const m = heavisideST(t, cfg.temperature);
        const d = logitDiffs(model, batch, { nodeMasks: layout.split(m), maskFill: cfg.maskFill });
        return tf.add(taskLossTensor(d), tf.mul(tf.sum(m), cfg.kCoef));
      };
      const { value, grad: g } = tf.valueAndGrad(f)(tauT);
      const [v, gd] = await Promise.all([value.data(), g.data()]);
      value.dispose();
      g.dispose();
      return { loss: v[0]! - cfg.kCoef * kept, grad: gd as Float32Array };
    } finally {
      tauT.dispose();
      batch.dispose();
    }
  };
}

/** Optimises the node masks on minibatches of training pairs. Returns tau and the loss curves. */
export async function learnMasks(
  model: SparseGpt,
  trainPrompts: readonly [TaskPrompt, TaskPrompt][],
  cfg: PruneConfig,
  hooks: PruneHooks = {},
): Promise<LearnedMasks> {
  const layout = new NodeLayout(model.config, cfg.layers);
  return optimiseMasks(layout.total, trainPrompts, cfg, hooks, nodeMaskStep(model, layout, cfg));
}

/** Host 0/1 mask keeping the first k nodes of a ranking. */
export function topKMask(layout: NodeLayout, ranking: readonly number[], k: number): Float32Array {
  return layout.maskOf(ranking.slice(0, k), 1);
}

/** Per-prompt logit differences with the given host 0/1 node mask applied (0 = ablated). */
export async function maskedLogitDiffs(
  model: SparseGpt,
  layout: NodeLayout,
  prompts: readonly TaskPrompt[],
  mask: Float32Array | null,
  opts: { maskFill: AblationMode; batchSize: number; signal?: AbortSignal },
): Promise<Float32Array> {
  if (!mask) return evalLogitDiffs(model, prompts, { batchSize: opts.batchSize, signal: opts.signal });
  const masks = layout.deviceMasks(mask);
  try {
    return await evalLogitDiffs(model, prompts, { nodeMasks: masks, maskFill: opts.maskFill, batchSize: opts.batchSize, signal: opts.signal });
  } finally {
    disposeMasks(masks);
  }
}

/** Runs the whole method on a task's training pairs. */
export async function pruneTask(model: SparseGpt, task: TaskFile, config: Partial<PruneConfig> = {}, hooks: PruneHooks = {}): Promise<PruneOutcome> {
  const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, ...config };
  const t0 = now();
  const layout = new NodeLayout(model.config, cfg.layers);
  const evalOpts = { maskFill: cfg.maskFill, batchSize: cfg.evalBatchSize, signal: hooks.signal };
  const { items, ...found } = await pruneWithMasks({
    total: layout.total,
    step: nodeMaskStep(model, layout, cfg),
    // Every node kept: the plain forward pass, without masks.
    circuitLogitDiffs: (prompts, nodes) => maskedLogitDiffs(model, layout, prompts, nodes.length >= layout.total ? null : layout.maskOf(nodes, 1), evalOpts),
    // Through the runtime's evaluation (the `circuit` intervention on the staged forward pass).
    minimise: nodeCircuitMinimiser(model, layout, cfg),
  }, task, cfg, hooks);
  return { layout, ...found, nodes: items, seconds: (now() - t0) / 1000 };
}
