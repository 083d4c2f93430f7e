import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_PRUNE_CONFIG } from './edgePrune';
import { DEFAULT_PRUNE_CONFIG } from './prune';
import { isValidKCoef, suggestedKCoef } from './suggestedKCoef';

describe('suggestedKCoef', () => {
  it("takes the shipped circuit's k_coef when it was pruned at the same granularity", () => {
    expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: 1e-4 } }, 'edges')).toEqual({ kCoef: 1e-4, source: 'shipped circuit' });
    // A file without granularity is a node circuit.
    expect(suggestedKCoef({ prune_config: { kCoef: 3e-4 } }, 'nodes')).toEqual({ kCoef: 3e-4, source: 'shipped circuit' });
  });

  it('falls back to the default of the method otherwise', () => {
    expect(suggestedKCoef({ prune_config: { kCoef: 3e-4 } }, 'edges')).toEqual({ kCoef: DEFAULT_EDGE_PRUNE_CONFIG.kCoef, source: 'default' });
    expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: 1e-4 } }, 'nodes')).toEqual({ kCoef: DEFAULT_PRUNE_CONFIG.kCoef, source: 'default' });
    expect(suggestedKCoef(null, 'nodes').kCoef).toBe(DEFAULT_PRUNE_CONFIG.kCoef);
    for (const bad of [0, -1e-3, Number.NaN, Infinity, '1e-3', undefined]) {
      expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: bad } }, 'edges').source).toBe('default');
    }
  });

  it('accepts only finite positive numbers', () => {
    expect([1e-4, 2e-3, 1].every(isValidKCoef)).toBe(true);
    expect([0, -1, Number.NaN, Infinity, null, '1'].some(isValidKCoef)).toBe(false);
  });
});
