import { describe, expect, it } from 'vitest';
import { DEFAULT_PRUNE_CONFIG } from '../../src/circuit/prune';
import { configOfCircuitFile } from './controlOnly';

describe('configOfCircuitFile', () => {
  it('takes every setting the file stores and ignores what is not a setting', () => {
    const cfg = configOfCircuitFile({ prune_config: { ...DEFAULT_PRUNE_CONFIG, kCoef: 3e-4, steps: 1000, minimality: true, eval_seconds: 12, sweep: [] } });
    expect(cfg).toEqual({ ...DEFAULT_PRUNE_CONFIG, kCoef: 3e-4, steps: 1000, minimality: true });
  });

  it('reads a file without a minimality key as made without the pass (it predates it)', () => {
    const { minimality, ...older } = DEFAULT_PRUNE_CONFIG;
    expect(minimality).toBe(true);
    expect(configOfCircuitFile({ prune_config: older }).minimality).toBe(false);
  });

  it('refuses a setting of the wrong type by name', () => {
    expect(() => configOfCircuitFile({ prune_config: { kCoef: '1e-3' } })).toThrow(/prune_config\.kCoef/);
  });
});
