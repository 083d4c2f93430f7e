import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_PRUNE_CONFIG } from './edgePrune';
import { DEFAULT_PRUNE_CONFIG } from './prune';
import { defaultKCoef, DENSE_EDGE_K_COEF, isValidKCoef, suggestedKCoef } from './suggestedKCoef';
import { countMatrixWeights } from '../model/weightCounts';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';

const sparse = { nonzero: 58_000, total: 928_000 };
const dense = { nonzero: 928_000, total: 928_000 };

describe('suggestedKCoef', () => {
  it("takes the shipped circuit's k_coef when it was pruned at the same granularity", () => {
    expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: 1e-4 } }, 'edges', sparse)).toEqual({ kCoef: 1e-4, source: 'shipped circuit' });
    // A file without granularity is a node circuit.
    expect(suggestedKCoef({ prune_config: { kCoef: 3e-4 } }, 'nodes', dense)).toEqual({ kCoef: 3e-4, source: 'shipped circuit' });
  });

  it("falls back to the method's default, for edges on a dense model the dense one", () => {
    expect(suggestedKCoef({ prune_config: { kCoef: 3e-4 } }, 'edges', sparse)).toEqual({ kCoef: DEFAULT_EDGE_PRUNE_CONFIG.kCoef, source: 'default' });
    expect(suggestedKCoef({ prune_config: { kCoef: 3e-4 } }, 'edges', dense)).toEqual({ kCoef: DENSE_EDGE_K_COEF, source: 'dense-model default' });
    expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: 1e-4 } }, 'nodes', dense)).toEqual({ kCoef: DEFAULT_PRUNE_CONFIG.kCoef, source: 'default' });
    expect(suggestedKCoef(null, 'nodes', sparse).kCoef).toBe(DEFAULT_PRUNE_CONFIG.kCoef);
    expect(suggestedKCoef(null, 'edges', { nonzero: 0, total: 0 }).kCoef).toBe(DEFAULT_EDGE_PRUNE_CONFIG.kCoef);
    for (const bad of [0, -1e-3, Number.NaN, Infinity, '1e-3', undefined]) {
      expect(suggestedKCoef({ granularity: 'edges', prune_config: { kCoef: bad } }, 'edges', sparse).source).toBe('default');
    }
  });

  it("defaultKCoef: the method's k_coef for a model, told dense or sparse by its counted weights", () => {
    const config = { vocabSize: 40, dModel: 16, nHead: 2, dHead: 4, nLayer: 1 };
    const sparseCkpt = randomCheckpoint({ config, seed: 1, density: 0.25 });
    const denseCkpt = randomCheckpoint({ config, seed: 1, density: 1 });
    expect(defaultKCoef('edges', countMatrixWeights(sparseCkpt))).toEqual({ kCoef: DEFAULT_EDGE_PRUNE_CONFIG.kCoef, source: 'default' });
    expect(defaultKCoef('edges', countMatrixWeights(denseCkpt))).toEqual({ kCoef: DENSE_EDGE_K_COEF, source: 'dense-model default' });
    expect(defaultKCoef('nodes', countMatrixWeights(denseCkpt))).toEqual({ kCoef: DEFAULT_PRUNE_CONFIG.kCoef, source: 'default' });
  });

  it('accepts only finite positive numbers', () => {
    expect([1e-4, 2e-3, 1].every(isValidKCoef)).toBe(true);
    expect([0, -1, Number.NaN, Infinity, null, '1'].some(isValidKCoef)).toBe(false);
  });
});
