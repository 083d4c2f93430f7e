import type { SparseGpt } from '../model/forward';
import type { AblationMode } from '../model/interventions';
import { tf } from '../model/tfjs';
import { fitCalibration, pairPrompts, promptSigns, referenceToken, type Calibration } from '../tasks/taskLoss';
import type { TaskFile, TaskPrompt } from '../tasks/taskSchema';
import { AdamW } from './adamw';
import { bisectSmallest } from './bisect';
import { lossUpperBound } from './lossBound';
import { heavisideST } from './heaviside';
import { disposeMasks, NodeLayout } from './nodeLayout';
import { seededHoldout, SeededRng } from '../tasks/seeded';
import { evalLogitDiffs, logitDiffs, makeTaskBatch, taskLossTensor } from './taskBatch';

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
}

/** Fewer held-back pairs than this make the bisection too noisy: masks and bisection then share every pair. */
export const MIN_VALIDATION_PAIRS = 10;

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
};

/** The training pairs split (seeded) into those the masks learn from and those the bisection judges k on. */
export function splitForValidation<T>(train: readonly T[], fraction: number, seed: number): { fit: T[]; validation: T[] } {
  const n = Math.round(train.length * fraction);
  if (n < MIN_VALIDATION_PAIRS || train.length - n < MIN_VALIDATION_PAIRS) return { fit: train.slice(), validation: train.slice() };
  const { kept, held } = seededHoldout(train, n, seed + 2);
  return { fit: kept, validation: held };
}

export type PrunePhase = 'optimise' | 'bisect' | 'calibrate';

export interface PruneProgress {
  phase: PrunePhase;
  /** Steps (optimise) or probes (bisect) done so far, and the planned total (bisect: an estimate). */
  done: number;
  total: number;
  /** Minibatch task loss at the current hard masks (optimise) or training loss of the probed circuit (bisect). */
  loss?: number;
  /** Nodes with tau >= 0 (optimise) or the probed k (bisect). */
  kept?: number;
}

export interface PruneHooks {
  onProgress?: (p: PruneProgress) => void;
  signal?: AbortSignal;
}

export interface PruneOutcome {
  layout: NodeLayout;
  /** Final mask parameters, one per node (layout order). */
  tau: Float32Array;
  /** Node indices ranked by tau, highest first (ties: lower index first). */
  ranking: number[];
  /** The circuit size found by bisection, its loss on the judged training pairs, and that loss's upper bound
   *  (lossUpperBound with selectionZ), which is what was compared with the target. */
  k: number;
  trainLoss: number;
  trainLossBound: number;
  /** False when no probed circuit (nor the full model) reaches the target on the training pairs; k is then the
   *  probed size with the lowest training loss. */
  reachedTarget: boolean;
  calibration: Calibration;
  /** [step, minibatch task loss at the hard masks] and [step, nodes kept] during optimisation. */
  curve: [number, number][];
  keptCurve: [number, number][];
  /** Every k the bisection probed, with its training loss and that loss's upper bound. */
  probes: [number, number][];
  probeBounds: [number, number][];
  seconds: number;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Learning rate at step i of n: linear warmup then linear decay to 0. */
export function lrAt(cfg: Pick<PruneConfig, 'lr' | 'warmupFrac'>, i: number, n: number): number {
  const w = Math.floor(cfg.warmupFrac * n);
  if (i < w) return (cfg.lr * (i + 1)) / w;
  return cfg.lr * Math.max(0, 1 - (i - w) / Math.max(1, n - w));
}

/** Yield to the event loop so that an abort (or a worker message) can get in between steps. */
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Optimises the node masks on minibatches of training pairs. Returns tau and the loss curves. */
export async function learnMasks(
  model: SparseGpt,
  trainPrompts: readonly [TaskPrompt, TaskPrompt][],
  cfg: PruneConfig,
  hooks: PruneHooks = {},
): Promise<{ tau: Float32Array; curve: [number, number][]; keptCurve: [number, number][] }> {
  const layout = new NodeLayout(model.config);
  const rng = new SeededRng(cfg.seed);
  const tau = Float32Array.from({ length: layout.total }, () => cfg.initMean + cfg.initStd * rng.normal());
  const opt = new AdamW(layout.total, cfg);
  const curve: [number, number][] = [];
  const keptCurve: [number, number][] = [];
  let pool: number[] = [];
  const nextPairs = (): number[] => {
    const out: number[] = [];
    while (out.length < Math.min(cfg.batchPairs, trainPrompts.length)) {
      if (pool.length === 0) pool = rng.shuffle(trainPrompts.map((_, i) => i));
      out.push(pool.pop()!);
    }
    return out;
  };
  const { vocabSize, blockSize } = model.config;
  for (let step = 0; step < cfg.steps; step++) {
    hooks.signal?.throwIfAborted();
    const prompts = nextPairs().flatMap((i) => trainPrompts[i]!);
    const batch = makeTaskBatch(prompts, vocabSize, blockSize);
    const tauT = tf.tensor1d(tau);
    let kept = 0;
    for (const t of tau) if (t >= 0) kept++;
    let taskLoss: number;
    let grad: Float32Array;
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
      taskLoss = v[0]! - cfg.kCoef * kept;
      grad = gd as Float32Array;
    } finally {
      tauT.dispose();
      batch.dispose();
    }
    opt.step(tau, grad, lrAt(cfg, step, cfg.steps));
    for (let i = 0; i < tau.length; i++) tau[i] = Math.min(1, Math.max(-1, tau[i]!));
    curve.push([step, taskLoss]);
    keptCurve.push([step, kept]);
    hooks.onProgress?.({ phase: 'optimise', done: step + 1, total: cfg.steps, loss: taskLoss, kept });
    await tick();
  }
  return { tau, curve, keptCurve };
}

/** Node indices by tau, highest first; ties broken by index so rankings are reproducible. */
export function rankNodes(tau: Float32Array): number[] {
  return Array.from(tau.keys()).sort((a, b) => tau[b]! - tau[a]! || a - b);
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
  const layout = new NodeLayout(model.config);
  const { fit, validation } = splitForValidation(task.train, cfg.validationFraction, cfg.seed);
  const pairs = fit.map((p) => [p.a, p.b] as [TaskPrompt, TaskPrompt]);
  const { tau, curve, keptCurve } = await learnMasks(model, pairs, cfg, hooks);
  const ranking = rankNodes(tau);

  // Bisection on a fixed subset of the held-back training prompts.
  const rng = new SeededRng(cfg.seed + 1);
  const all = pairPrompts(task.train);
  const judged = pairPrompts(validation);
  const subset = judged.length <= cfg.bisectPrompts ? judged : rng.shuffle(judged.slice()).slice(0, cfg.bisectPrompts);
  const probes: [number, number][] = [];
  const probeBounds: [number, number][] = [];
  const lossCache = new Map<number, { mean: number; bound: number }>();
  const evalOpts = { maskFill: cfg.maskFill, batchSize: cfg.evalBatchSize, signal: hooks.signal };
  const estimate = Math.ceil(Math.log2(layout.total + 1)) + 2;
  const lossAt = async (k: number): Promise<{ mean: number; bound: number }> => {
    const hit = lossCache.get(k);
    if (hit !== undefined) return hit;
    const d = await maskedLogitDiffs(model, layout, subset, k >= layout.total ? null : topKMask(layout, ranking, k), evalOpts);
    const r = lossUpperBound(d, cfg.selectionZ);
    lossCache.set(k, r);
    probes.push([k, r.mean]);
    probeBounds.push([k, r.bound]);
    hooks.onProgress?.({ phase: 'bisect', done: probes.length, total: Math.max(estimate, probes.length), loss: r.mean, kept: k });
    return r;
  };
  const passes = async (k: number) => (await lossAt(k)).bound <= cfg.targetLoss;
  // Upper end of the search: the nodes the masks kept; if that circuit misses the target, progressively larger ones.
  // Loss is not monotone in k far above the kept count (nodes with very low tau were pushed down because keeping
  // them hurt), so this grows gently rather than jumping to the full model.
  const kept = Math.max(1, tau.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0));
  let hi = -1;
  for (const f of [1, 1.25, 1.5, 2, 3, 4, 6, 8, 16, 32, 64, Infinity]) {
    const cand = Math.min(layout.total, Math.ceil(kept * f));
    if (await passes(cand)) {
      hi = cand;
      break;
    }
    if (cand === layout.total) break;
  }
  const reachedTarget = hi >= 0;
  // Missed everywhere: keep the probed circuit with the lowest bound (ties: the smaller).
  const best = () => probeBounds.reduce((b, p) => (p[1] < b[1] || (p[1] === b[1] && p[0] < b[0]) ? p : b))[0];
  const k = reachedTarget ? await bisectSmallest(0, hi, passes, hooks.signal) : best();
  const { mean: trainLoss, bound: trainLossBound } = await lossAt(k);

  // Calibration on all training prompts with the final circuit.
  hooks.onProgress?.({ phase: 'calibrate', done: 0, total: 1 });
  const dTrain = await maskedLogitDiffs(model, layout, all, k >= layout.total ? null : topKMask(layout, ranking, k), evalOpts);
  const calibration = fitCalibration(dTrain, promptSigns(all, referenceToken(task)));
  hooks.onProgress?.({ phase: 'calibrate', done: 1, total: 1 });

  return { layout, tau, ranking, k, trainLoss, trainLossBound, reachedTarget, calibration, curve, keptCurve, probes, probeBounds, seconds: (now() - t0) / 1000 };
}
