import { seededHoldout, SeededRng } from '../tasks/seeded';
import { fitCalibration, pairPrompts, promptSigns, referenceToken, type Calibration } from '../tasks/taskLoss';
import type { TaskFile, TaskPair, TaskPrompt } from '../tasks/taskSchema';
import { AdamW } from './adamw';
import type { CircuitMinimiser } from './minimality';
import { pairSampler } from './pairSampler';
import type { PruneConfig, PruneHooks } from './prune';
import { searchCircuitSize, type SizeSearchResult } from './sizeSearch';

/**
 * The method node pruning (prune.ts) and edge pruning (edgePrune.ts) share (docs/circuits.md): one mask parameter tau
 * per item (a node, or a candidate edge) learned on minibatches of training pairs, the items ranked by tau, the
 * smallest top-k circuit meeting the target on the held-back pairs found by bisection (sizeSearch.ts), the minimality
 * pass, and the logit scale and shift fitted on all training pairs. What differs is how a circuit of items is run: a
 * MaskPruningMethod.
 */

/** Fewer held-back pairs than this make the bisection too noisy: masks and bisection then share every pair. */
export const MIN_VALIDATION_PAIRS = 10;

/** The training pairs split (seeded) into those the masks learn from and those the bisection judges k on. */
export function splitForValidation<T>(train: readonly T[], fraction: number, seed: number): { fit: T[]; validation: T[] } {
  const n = Math.round(train.length * fraction);
  if (n < MIN_VALIDATION_PAIRS || train.length - n < MIN_VALIDATION_PAIRS) return { fit: train.slice(), validation: train.slice() };
  const { kept, held } = seededHoldout(train, n, seed + 2);
  return { fit: kept, validation: held };
}

/** The prompts the bisection judges k on: a fixed seeded subset (at most cfg.bisectPrompts) of the held-back pairs. */
export function bisectionPrompts(validation: readonly TaskPair[], cfg: Pick<PruneConfig, 'seed' | 'bisectPrompts'>): TaskPrompt[] {
  const judged = pairPrompts(validation);
  return judged.length <= cfg.bisectPrompts ? judged : new SeededRng(cfg.seed + 1).shuffle(judged.slice()).slice(0, cfg.bisectPrompts);
}

/** Learning rate at step i of n: linear warmup then linear decay to 0. */
export function lrAt(cfg: Pick<PruneConfig, 'lr' | 'warmupFrac'>, i: number, n: number): number {
  const w = Math.floor(cfg.warmupFrac * n);
  if (i < w) return (cfg.lr * (i + 1)) / w;
  return cfg.lr * Math.max(0, 1 - (i - w) / Math.max(1, n - w));
}

/** Item indices by tau, highest first; ties broken by index so rankings are reproducible. */
export function rankNodes(tau: Float32Array): number[] {
  return Array.from(tau.keys()).sort((a, b) => tau[b]! - tau[a]! || a - b);
}

/** Milliseconds on the best clock there is (performance.now in browsers and Node). */
export const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Yield to the event loop so that an abort (or a worker message) can get in between steps. */
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * One optimisation step's value and gradient: the minibatch's mean task loss at the hard masks of tau (kept: how many
 * items tau keeps) and the gradient of the objective, task loss + kCoef * kept, with respect to tau.
 */
export type MaskStep = (prompts: TaskPrompt[], tau: Float32Array, kept: number) => Promise<{ loss: number; grad: Float32Array }>;

export interface LearnedMasks {
  /** Final mask parameters, one per item. */
  tau: Float32Array;
  /** [step, minibatch task loss at the hard masks] and [step, items kept] during optimisation. */
  curve: [number, number][];
  keptCurve: [number, number][];
}

/** Optimises `total` mask parameters with AdamW on seeded minibatches of training pairs, each kept in [-1, 1]. */
export async function optimiseMasks(
  total: number,
  trainPrompts: readonly [TaskPrompt, TaskPrompt][],
  cfg: PruneConfig,
  hooks: PruneHooks,
  step: MaskStep,
): Promise<LearnedMasks> {
  const rng = new SeededRng(cfg.seed);
  const tau = Float32Array.from({ length: total }, () => cfg.initMean + cfg.initStd * rng.normal());
  const opt = new AdamW(total, cfg);
  const curve: [number, number][] = [];
  const keptCurve: [number, number][] = [];
  const nextPairs = pairSampler(rng, trainPrompts.length, cfg.batchPairs);
  for (let i = 0; i < cfg.steps; i++) {
    hooks.signal?.throwIfAborted();
    let kept = 0;
    for (const t of tau) if (t >= 0) kept++;
    const { loss, grad } = await step(nextPairs().flatMap((p) => trainPrompts[p]!), tau, kept);
    opt.step(tau, grad, lrAt(cfg, i, cfg.steps));
    for (let j = 0; j < total; j++) tau[j] = Math.min(1, Math.max(-1, tau[j]!));
    curve.push([i, loss]);
    keptCurve.push([i, kept]);
    hooks.onProgress?.({ phase: 'optimise', done: i + 1, total: cfg.steps, loss, kept });
    await tick();
  }
  return { tau, curve, keptCurve };
}

/** How one granularity runs a circuit of its items. */
export interface MaskPruningMethod {
  /** Items with a mask parameter (k = total keeps everything). */
  total: number;
  step: MaskStep;
  /** Per-prompt logit differences of the circuit made of `items` (every other item ablated). */
  circuitLogitDiffs(prompts: readonly TaskPrompt[], items: readonly number[]): Promise<Float32Array>;
  minimise: CircuitMinimiser;
}

/**
 * What node and edge pruning both find; each adds its items (PruneOutcome.nodes, EdgePruneOutcome.edges). The size
 * search's result, except that k, trainLoss and trainLossBound are of the final circuit, after the minimality pass:
 * the top bisectK items of the ranking less the minimalityRemoved ones, and its loss on the judged training pairs with
 * that loss's upper bound (what was compared with the target). reachedTarget false: no probed circuit (nor the full
 * model) reaches the target on the training pairs; bisectK is then the probed size with the lowest bound.
 */
export interface SizeSearchOutcome extends LearnedMasks, SizeSearchResult {
  /** Item indices ranked by tau, highest first (ties: lower index first). */
  ranking: number[];
  bisectK: number;
  /** null: the pass was off. */
  minimalityRemoved: number | null;
  minimalitySeconds: number;
  calibration: Calibration;
  /** Wall seconds of the whole run. */
  seconds: number;
}

/**
 * Runs the shared method on a task's training pairs. Returns everything but `seconds` (the caller's clock also covers
 * its own setup), with the circuit's items strongest first.
 */
export async function pruneWithMasks(
  method: MaskPruningMethod,
  task: TaskFile,
  cfg: PruneConfig,
  hooks: PruneHooks,
): Promise<Omit<SizeSearchOutcome, 'seconds'> & { items: number[] }> {
  const { fit, validation } = splitForValidation(task.train, cfg.validationFraction, cfg.seed);
  const { tau, curve, keptCurve } = await optimiseMasks(method.total, fit.map((p) => [p.a, p.b]), cfg, hooks, method.step);
  const ranking = rankNodes(tau);
  const subset = bisectionPrompts(validation, cfg);
  const search = await searchCircuitSize({
    total: method.total,
    kept: tau.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0),
    targetLoss: cfg.targetLoss,
    selectionZ: cfg.selectionZ,
    logitDiffsAt: (k) => method.circuitLogitDiffs(subset, ranking.slice(0, k)),
    onProbe: (done, total, loss, k) => hooks.onProgress?.({ phase: 'bisect', done, total, loss, kept: k }),
    signal: hooks.signal,
  });
  const { reachedTarget, probes, probeBounds } = search;
  let { trainLoss, trainLossBound } = search;

  // Minimality: on the same judged prompts, with the same acceptance test.
  let items = ranking.slice(0, search.k);
  let minimalityRemoved: number | null = null;
  const tm = now();
  if (cfg.minimality) {
    const m = await method.minimise(items, tau, subset, {
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.({ phase: 'minimality', done: p.done, total: p.total, loss: p.bound, kept: p.kept }),
    });
    const gone = new Set(m.removed);
    items = items.filter((i) => !gone.has(i));
    minimalityRemoved = m.removed.length;
    if (m.ran) ({ mean: trainLoss, bound: trainLossBound } = m);
  }
  const minimalitySeconds = (now() - tm) / 1000;

  // Calibration on all training prompts with the final circuit.
  hooks.onProgress?.({ phase: 'calibrate', done: 0, total: 1 });
  const all = pairPrompts(task.train);
  const dTrain = await method.circuitLogitDiffs(all, items);
  const calibration = fitCalibration(dTrain, promptSigns(all, referenceToken(task)));
  hooks.onProgress?.({ phase: 'calibrate', done: 1, total: 1 });
  return {
    tau, ranking, items, k: items.length, bisectK: search.k, minimalityRemoved, minimalitySeconds, trainLoss, trainLossBound,
    reachedTarget, calibration, curve, keptCurve, probes, probeBounds,
  };
}
