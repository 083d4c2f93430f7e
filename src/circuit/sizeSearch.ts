import { bisectSmallest } from './bisect';
import { lossUpperBound } from './lossBound';

/**
 * The circuit-size search shared by node and edge pruning (docs/circuits.md, "Circuit size"): items (nodes or edges)
 * are ranked by their mask parameter; the smallest k whose top-k circuit meets the target on the judged prompts (mean
 * loss plus selectionZ standard errors) is found by bisection. The upper end starts at the number of items the masks
 * kept and grows gently (1.25x, 1.5x, 2x, ...) up to every item when that circuit misses, because loss is not monotone
 * far above the kept count. When nothing probed reaches the target, k is the probed size with the lowest bound.
 */
export interface SizeSearchResult {
  k: number;
  trainLoss: number;
  trainLossBound: number;
  reachedTarget: boolean;
  /** Every k probed, with its loss on the judged prompts and that loss's upper bound. */
  probes: [number, number][];
  probeBounds: [number, number][];
}

export interface SizeSearchOptions {
  /** Items in all (k = total keeps everything). */
  total: number;
  /** Items the learned masks kept (tau >= 0): the first upper end tried. */
  kept: number;
  targetLoss: number;
  selectionZ: number;
  /** Per-prompt logit differences of the top-k circuit on the judged prompts. */
  logitDiffsAt: (k: number) => Promise<Float32Array>;
  /** After each probe: probes so far, an estimate of the total, the probe's mean loss and k. */
  onProbe?: (done: number, total: number, loss: number, k: number) => void;
  signal?: AbortSignal;
}

const GROWTH = [1, 1.25, 1.5, 2, 3, 4, 6, 8, 16, 32, 64, Infinity];

export async function searchCircuitSize(o: SizeSearchOptions): Promise<SizeSearchResult> {
  const probes: [number, number][] = [];
  const probeBounds: [number, number][] = [];
  const cache = new Map<number, { mean: number; bound: number }>();
  const estimate = Math.ceil(Math.log2(o.total + 1)) + 2;
  const lossAt = async (k: number): Promise<{ mean: number; bound: number }> => {
    const hit = cache.get(k);
    if (hit !== undefined) return hit;
    const r = lossUpperBound(await o.logitDiffsAt(k), o.selectionZ);
    cache.set(k, r);
    probes.push([k, r.mean]);
    probeBounds.push([k, r.bound]);
    o.onProbe?.(probes.length, Math.max(estimate, probes.length), r.mean, k);
    return r;
  };
  const passes = async (k: number) => (await lossAt(k)).bound <= o.targetLoss;
  const kept = Math.max(1, o.kept);
  let hi = -1;
  for (const f of GROWTH) {
    const cand = Math.min(o.total, Math.ceil(kept * f));
    if (await passes(cand)) {
      hi = cand;
      break;
    }
    if (cand === o.total) break;
  }
  const reachedTarget = hi >= 0;
  // Missed everywhere: keep the probed circuit with the lowest bound (ties: the smaller).
  const best = () => probeBounds.reduce((b, p) => (p[1] < b[1] || (p[1] === b[1] && p[0] < b[0]) ? p : b))[0];
  const k = reachedTarget ? await bisectSmallest(0, hi, passes, o.signal) : best();
  const { mean: trainLoss, bound: trainLossBound } = await lossAt(k);
  return { k, trainLoss, trainLossBound, reachedTarget, probes, probeBounds };
}
