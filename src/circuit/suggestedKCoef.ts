import type { CircuitFile, CircuitGranularity } from './circuitSchema';
import { circuitGranularity } from './circuitSchema';
import { DEFAULT_EDGE_PRUNE_CONFIG } from './edgePrune';
import { DEFAULT_PRUNE_CONFIG } from './prune';
import type { WeightCounts } from '../model/weightCounts';

/** Where a suggested k_coef came from, for the page to say so. */
export type KCoefSource = 'shipped circuit' | 'default' | 'dense-model default';

/**
 * Edge pruning's size penalty for a dense model. The default 2e-3 was chosen on the sparse model (tens of thousands of
 * candidate edges); on the dense twin (394,752 candidates) the masks collapse at 2e-3 and no size meets the target,
 * while 1e-4 reached it on every task tried (docs/circuits.md, "The dense twin pruned by edges").
 */
export const DENSE_EDGE_K_COEF = 1e-4;

/** A model counts as dense here when more than half of its weights are nonzero. */
const DENSE_FRACTION = 0.5;

/**
 * The method's own size penalty for a model, the one pruning uses when none is given (page, worker and
 * `npm run prune` alike): 1e-3 per node, 2e-3 per edge, and DENSE_EDGE_K_COEF per edge on a dense model.
 */
export function defaultKCoef(granularity: CircuitGranularity, weights: WeightCounts): { kCoef: number; source: Exclude<KCoefSource, 'shipped circuit'> } {
  if (granularity === 'nodes') return { kCoef: DEFAULT_PRUNE_CONFIG.kCoef, source: 'default' };
  if (weights.total > 0 && weights.nonzero / weights.total > DENSE_FRACTION) return { kCoef: DENSE_EDGE_K_COEF, source: 'dense-model default' };
  return { kCoef: DEFAULT_EDGE_PRUNE_CONFIG.kCoef, source: 'default' };
}

/**
 * The size penalty to offer for pruning a task: the shipped circuit's own k_coef when it was pruned at the same
 * granularity (k_coef is model-dependent), else the method's default (defaultKCoef).
 */
export function suggestedKCoef(
  shipped: Pick<CircuitFile, 'granularity' | 'prune_config'> | null | undefined,
  granularity: CircuitGranularity,
  weights: WeightCounts,
): { kCoef: number; source: KCoefSource } {
  const fromFile = shipped && circuitGranularity(shipped) === granularity ? shipped.prune_config?.kCoef : undefined;
  if (isValidKCoef(fromFile)) return { kCoef: fromFile, source: 'shipped circuit' };
  return defaultKCoef(granularity, weights);
}

/** A usable size penalty: a finite number above zero. */
export function isValidKCoef(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}
