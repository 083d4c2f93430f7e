import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { bestOf, methodTable } from './methodTable';

const circuit = (task: string, edges: number, reached = true): CircuitFile => ({
  task, model: 'm', ablation: 'mean', k: edges, nodes: [], edges: [], edge_count: edges, target_loss: 0.15,
  full_model_loss: 0.1, full_model_accuracy: 0.9, circuit_loss: 0.14, circuit_accuracy: 0.95, ablated_loss: 0.7,
  ablated_accuracy: 0.5, logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: 60,
  edge_counts: { weight: edges, residual: 0, qk: 0 }, reached_target: reached,
});

describe('methodTable', () => {
  const nodes = { label: 'nodes', files: new Map([['a', circuit('a', 100)], ['b', circuit('b', 40)], ['c', circuit('c', 10)]]) };
  const edges = { label: 'edges', files: new Map([['a', circuit('a', 25)], ['b', circuit('b', 10)], ['c', circuit('c', 5, false)]]) };

  it('picks the fewest edges among circuits that reached the target', () => {
    expect(bestOf('a', [nodes, edges])!.label).toBe('edges');
    expect(bestOf('c', [nodes, edges])!.label).toBe('nodes'); // the smaller edge circuit missed the target
    expect(bestOf('z', [nodes, edges])).toBeNull();
  });

  it('takes geometric means over the tasks every method reached, relative to the first method', () => {
    const t = methodTable('m', [nodes, edges]);
    expect(t.tasks).toEqual(['a', 'b']);
    expect(t.geomeans[0]).toBeCloseTo(Math.sqrt(100 * 40), 9);
    expect(t.geomeans[1]).toBeCloseTo(Math.sqrt(25 * 10), 9);
    expect(t.markdown).toContain('| edges | 15.81 | 0.25 |');
    expect(t.markdown).toContain('| a | **edges** |');
  });

  it('adds the geometric mean of each task\'s best circuit, whichever method made it', () => {
    // On b the node circuit is the smaller one: the best-per-task mean is below both methods' own.
    const mixed = { label: 'edges', files: new Map([['a', circuit('a', 25)], ['b', circuit('b', 60)]]) };
    const t = methodTable('m', [nodes, mixed]);
    expect(t.bestGeomean).toBeCloseTo(Math.sqrt(25 * 40), 9);
    expect(t.markdown).toContain('| best of the 2 per task | 31.62 | 0.50 |');
    expect(methodTable('m', [nodes]).markdown).not.toContain('best of the');
  });
});
