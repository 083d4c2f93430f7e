import { bisectSmallest } from './bisect';

/**
 * A circuit's core: its N most important nodes (ranked by how much the task loss rises when each is also ablated),
 * studied as a circuit of their own. Pure ranking and selection; the losses come from the caller (the engine's
 * importance job, src/worker/importance.ts).
 */

/** Circuits with at most this many nodes are readable as drawn: their default core is the whole circuit. */
export const SMALL_CIRCUIT_NODES = 40;
/** The default core of a larger circuit is the smallest whose task loss is within this of the whole circuit's. */
export const CORE_LOSS_TOLERANCE = 0.05;

export interface Effect {
  id: string;
  /** Task loss with the entry also ablated, minus the loss without (larger = the circuit relies on it more). */
  effect: number;
}

/**
 * Entries by effect, largest first. Ties (and NaN, which sorts last) keep the given order, so a ranking is the same
 * wherever it is computed from the same numbers.
 */
export function rankByEffect<T extends Effect>(entries: readonly T[]): T[] {
  const key = (x: number) => (Number.isNaN(x) ? -Infinity : x);
  return entries.map((e, i) => ({ e, i })).sort((a, b) => key(b.e.effect) - key(a.e.effect) || a.i - b.i).map((x) => x.e);
}

/** The ids of the `n` highest-ranked entries (the core of size n). */
export function coreIds(ranking: readonly Effect[], n: number): string[] {
  return ranking.slice(0, Math.max(0, Math.min(n, ranking.length))).map((e) => e.id);
}

/**
 * The default core size: the whole circuit when it has at most SMALL_CIRCUIT_NODES nodes; otherwise the smallest n
 * whose core's loss is at most `circuitLoss + tolerance`, found by bisection over n in [1, total] (like pruning's
 * bisection over k: it assumes the loss falls as nodes are added back in ranking order, and probes about log2(total)
 * cores). The whole circuit passes by definition, so n = total is never probed.
 */
export async function defaultCoreSize(
  total: number,
  circuitLoss: number,
  coreLoss: (n: number) => Promise<number>,
  opts: { tolerance?: number; smallCircuit?: number; signal?: AbortSignal } = {},
): Promise<number> {
  if (!(Number.isInteger(total) && total >= 0)) throw new Error(`core: bad circuit size ${total}`);
  if (total <= (opts.smallCircuit ?? SMALL_CIRCUIT_NODES)) return total;
  const limit = circuitLoss + (opts.tolerance ?? CORE_LOSS_TOLERANCE);
  return bisectSmallest(1, total, async (n) => n >= total || (await coreLoss(n)) <= limit, opts.signal);
}
