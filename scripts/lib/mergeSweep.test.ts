import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { mergeSweepRuns } from './mergeSweep';

const run = (kCoef: number, k: number, reached: boolean, bound: number, task = 't'): CircuitFile => ({
  task, model: `_run${kCoef}`, ablation: 'mean', k, nodes: [], edges: [], edge_count: 2 * k, target_loss: 0.15,
  full_model_loss: 0.1, full_model_accuracy: 0.9, circuit_loss: 0.14, circuit_accuracy: 0.95, ablated_loss: 0.7,
  ablated_accuracy: 0.5, logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: k,
  prune_config: { kCoef }, reached_target: reached, train_circuit_loss_bound: bound,
});

describe('mergeSweepRuns', () => {
  it('picks as --sweep-k-coef does, names the target model and lists every run', () => {
    const m = mergeSweepRuns([run(1e-3, 90, false, 0.2), run(3e-4, 150, true, 0.14)], 'target');
    expect(m.k).toBe(150);
    expect(m.model).toBe('target');
    expect(m.prune_config?.kCoef).toBe(3e-4);
    expect(m.prune_config?.sweep).toEqual([
      { kCoef: 1e-3, k: 90, reached_target: false, train_loss_bound: 0.2, seconds: 90 },
      { kCoef: 3e-4, k: 150, reached_target: true, train_loss_bound: 0.14, seconds: 150 },
    ]);
  });

  it('one source is copied under the target name', () => {
    expect(mergeSweepRuns([run(1e-3, 90, true, 0.1)], 'target')).toEqual({ ...run(1e-3, 90, true, 0.1), model: 'target' });
  });

  it('refuses files of different tasks and files that are already a pick', () => {
    expect(() => mergeSweepRuns([run(1e-3, 90, true, 0.1), run(3e-4, 9, true, 0.1, 'u')], 'x')).toThrow('different tasks');
    const picked = { ...run(1e-3, 90, true, 0.1), prune_config: { kCoef: 1e-3, sweep: [] } };
    expect(() => mergeSweepRuns([picked, run(3e-4, 9, true, 0.1)], 'x')).toThrow('already a sweep');
  });
});
