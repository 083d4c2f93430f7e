import type { CircuitFile, CircuitGranularity } from './circuitSchema';
import { circuitGranularity } from './circuitSchema';
import { DEFAULT_EDGE_PRUNE_CONFIG } from './edgePrune';
import { DEFAULT_PRUNE_CONFIG } from './prune';

/** Where a suggested k_coef came from, for the page to say so. */
export type KCoefSource = 'shipped circuit' | 'default';

/**
 * The size penalty to offer for pruning a task: the shipped circuit's own k_coef when it was pruned at the same
 * granularity (k_coef is model-dependent: a dense model's edge masks collapse at the sparse default 2e-3 and need about
 * 1e-4, docs/circuits.md), else the method's default.
 */
export function suggestedKCoef(shipped: Pick<CircuitFile, 'granularity' | 'prune_config'> | null | undefined,
  granularity: CircuitGranularity): { kCoef: number; source: KCoefSource } {
  const fromFile = shipped && circuitGranularity(shipped) === granularity ? shipped.prune_config?.kCoef : undefined;
  if (isValidKCoef(fromFile)) return { kCoef: fromFile, source: 'shipped circuit' };
  return { kCoef: granularity === 'edges' ? DEFAULT_EDGE_PRUNE_CONFIG.kCoef : DEFAULT_PRUNE_CONFIG.kCoef, source: 'default' };
}

/** A usable size penalty: a finite number above zero. */
export function isValidKCoef(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}
