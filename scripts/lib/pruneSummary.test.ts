import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { describeCircuit } from './describeCircuit';
import { pruneSummaryLine } from './pruneSummary';

const circuit = {
  task: 't', model: 'm', ablation: 'mean', k: 2, edge_count: 1, total_nodes: 2944, target_loss: 0.15,
  full_model_loss: 0.519, full_model_accuracy: 0.8, circuit_loss: 0.071, circuit_accuracy: 0.98, ablated_loss: 1.05, ablated_accuracy: 0.5,
  logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: 230, reached_target: true, train_circuit_loss_bound: 0.149,
  nodes: [{ site: '0.attn.v', channel: 17 }, { site: '0.attn.resid_delta', channel: 5 }],
  edges: [{ source: '0.attn.v:17', target: '0.attn.resid_delta:5', weight: 0.25, kind: 'weight' }],
} as unknown as CircuitFile;
const control = {
  label_rule: 'random flip, p=0.5', seed: 1, flipped_pairs: 247, granularity: 'nodes' as const, reached_target: false,
  circuit_loss: 0.7204, circuit_accuracy: 0.515, node_count: 35, edge_count: 40,
};

describe('the CLI summary of a pruning run', () => {
  it('leads with a missed target, and names the minimality pass and the control', () => {
    expect(pruneSummaryLine(circuit, { prune: 230.4, eval: 12 })).toBe(
      'k 2/2944, 1 edges, circuit loss 0.071 acc 0.98, full 0.519 / 0.80, ablated acc 0.50; 230 s prune + 12 s eval',
    );
    const missed = { ...circuit, reached_target: false, train_circuit_loss_bound: 0.2134, minimality_removed: 0, control };
    expect(pruneSummaryLine(missed, { prune: 230, eval: 12, control: 250 })).toBe(
      'TARGET NOT REACHED (bound 0.213 > 0.150); k 2/2944, 1 edges, circuit loss 0.071 acc 0.98, full 0.519 / 0.80, ablated acc 0.50; ' +
        'minimality pass removed 0 of 2 nodes; control with random labels: target not reached, loss 0.720, accuracy 52%, 35 nodes, 40 edges; ' +
        '230 s prune + 12 s eval + 250 s control',
    );
  });

  it('--describe says the same under its headline', () => {
    const text = describeCircuit({ ...circuit, reached_target: false, train_circuit_loss_bound: 0.2134, minimality_removed: 5, control }, { config: { dHead: 8 } });
    const lines = text.split('\n');
    expect(lines[1]).toBe('target not reached: its loss bound on the held-back training pairs is 0.213, above the target 0.150. This is the best circuit pruning found, not one that does the task to the target.');
    expect(lines[2]).toBe('minimality pass removed 5 of 7 nodes');
    expect(lines[3]).toBe('control with random labels: target not reached, loss 0.720, accuracy 52%, 35 nodes, 40 edges');
    expect(describeCircuit(circuit, { config: { dHead: 8 } }).split('\n')[1]).toBe('');
  });
});
