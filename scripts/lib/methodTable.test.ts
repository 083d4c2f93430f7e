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

  it('compares the best circuit with the first method on every task where both exist, even when a third method missed', () => {
    // The third method misses b, so b leaves the common set but stays in the comparison with the first method.
    const byEdges = (c: CircuitFile): CircuitFile => ({ ...c, granularity: 'edges' });
    const edgesE = { label: 'edges', files: new Map([...edges.files].map(([k, c]) => [k, byEdges(c)])) };
    const third = { label: 'zero', files: new Map([['a', byEdges(circuit('a', 20))], ['b', byEdges(circuit('b', 5, false))]]) };
    // A second node method that alone reaches c: c is not a node-against-edge comparison, so it stays out.
    const nodes2 = { label: 'nodes2', files: new Map([['a', circuit('a', 90)], ['b', circuit('b', 40)], ['c', circuit('c', 8)]]) };
    const t = methodTable('m', [nodes, nodes2, edgesE, third]);
    expect(t.tasks).toEqual(['a']);
    expect(t.againstFirst.tasks).toEqual(['a', 'b']);
    expect(t.againstFirst.first).toBeCloseTo(Math.sqrt(100 * 40), 9);
    expect(t.againstFirst.best).toBeCloseTo(Math.sqrt(20 * 10), 9);
    expect(t.markdown).toContain('Over the 2 tasks where nodes and at least one method pruning by edges reached the target (a, b)');
    expect(t.markdown).toContain('0.22 of nodes.');
    // With the same task sets the sentence would repeat the table, so it is left out.
    expect(methodTable('m', [nodes, edgesE]).markdown).not.toContain('at least one method pruning by');
  });
});
