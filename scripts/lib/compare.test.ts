import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { ablationCaption, compareCircuitSets, readOutCircuits } from './compare';

const circuit = (task: string, edges: number, weight: number, reached = true): CircuitFile => ({
  task, model: 'm', ablation: 'mean', k: 10, nodes: [], edges: [], edge_count: edges, target_loss: 0.15,
  full_model_loss: 0.1, full_model_accuracy: 0.9, circuit_loss: 0.14, circuit_accuracy: 0.95, ablated_loss: 0.7,
  ablated_accuracy: 0.5, logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: 60,
  edge_counts: { weight, residual: edges - weight, qk: 0 }, reached_target: reached, total_nodes: 100,
});

describe('compareCircuitSets', () => {
  it('gives per-task dense/sparse edge ratios and their geometric mean, skipping tasks that missed the target', () => {
    const sparse = new Map([['a', circuit('a', 10, 5)], ['b', circuit('b', 100, 50)], ['c', circuit('c', 10, 10, false)]]);
    const dense = new Map([['a', circuit('a', 40, 20)], ['b', circuit('b', 1600, 800)], ['c', circuit('c', 10, 10)]]);
    const cmp = compareCircuitSets('s', 'd', sparse, dense);
    expect(cmp.ratios.map((r) => [r.task, r.all, r.weight, r.capable])).toEqual([['a', 4, 4, true], ['b', 16, 16, true]]);
    expect(cmp.markdown).toContain('**geometric mean** (2 tasks) | **8.00** | **8.00**');
    expect(cmp.markdown).toContain('ablation: mean;');
  });

  it('says which side used which ablation when the modes differ, and marks zero-ablation rows', () => {
    const zero = { ...circuit('a', 10, 5), ablation: 'zero' as const };
    const cmp = compareCircuitSets('s', 'd', new Map([['a', zero], ['b', circuit('b', 100, 50)]]), new Map([['a', circuit('a', 40, 20)], ['b', circuit('b', 1600, 800)]]));
    expect(cmp.markdown).toContain('ablation (tasks per mode): sparse mean on 1, zero on 1; dense mean on 2;');
    expect(cmp.markdown).toContain('| a | sparse | nodes, zero ablation |');
    expect(ablationCaption([zero], [zero])).toBe('ablation: zero');
  });
});

describe('readOutCircuits', () => {
  it('reads <dir>/<id>/<task>.json as --out writes them, by task, and says where it looked when nothing is there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compare-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'a.json'), JSON.stringify(circuit('a', 40, 20)));
    writeFileSync(join(dir, 'd', 'notes.txt'), 'not a circuit');
    const read = readOutCircuits(dir, 'd');
    expect([...read.keys()]).toEqual(['a']);
    expect(read.get('a')!.edge_count).toBe(40);
    expect(() => readOutCircuits(dir, 'other')).toThrow(`no circuits of other in ${dir} (expected ${join(dir, 'other')}/<task>.json)`);
  });
});
