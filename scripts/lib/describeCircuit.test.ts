import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { describeCircuit, nodeLabel } from './describeCircuit';

const circuit = {
  task: 't', model: 'm', ablation: 'mean', k: 3, edge_count: 3, target_loss: 0.15,
  full_model_loss: 0.1, full_model_accuracy: 1, circuit_loss: 0.12, circuit_accuracy: 0.95, ablated_loss: 0.7, ablated_accuracy: 0.5,
  logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: 1,
  nodes: [{ site: '0.attn.act_in', channel: 2 }, { site: '0.attn.v', channel: 17 }, { site: '0.attn.resid_delta', channel: 5 }],
  edges: [
    { source: '0.attn.act_in:2', target: '0.attn.v:17', weight: -0.5, kind: 'weight' },
    { source: '0.attn.v:17', target: '0.attn.resid_delta:5', weight: 0.25, kind: 'weight' },
    { source: '0.attn.resid_delta:5', target: '1.attn.act_in:5', weight: 1, kind: 'residual' },
  ],
} as unknown as CircuitFile;

describe('describeCircuit', () => {
  it('names the head of q/k/v channels', () => {
    expect(nodeLabel('3.attn.k:35', 16)).toBe('3.attn.k:35 (head 2)');
    expect(nodeLabel('3.mlp.post_act:35', 16)).toBe('3.mlp.post_act:35');
  });

  it('lists nodes by site with their weight edges in both directions, residual links left out', () => {
    const text = describeCircuit(circuit, { config: { dHead: 8 } });
    expect(text).toContain('0.attn.v: 1 node');
    expect(text).toContain('  0.attn.v:17 (head 2)\n    <- 0.attn.act_in:2 -0.50\n    -> 0.attn.resid_delta:5 0.25');
    expect(text).not.toContain('1.attn.act_in:5');
  });

  it('counts the nodes in its first line, also for an edge circuit, whose k counts edges', () => {
    expect(describeCircuit(circuit, { config: { dHead: 8 } }).split('\n')[0]).toContain('m / t, pruned by nodes: 3 nodes, 3 edges');
    const byEdges = { ...circuit, granularity: 'edges', k: 2, edge_count: 2, edges: circuit.edges.slice(0, 2) } as CircuitFile;
    expect(describeCircuit(byEdges, { config: { dHead: 8 } }).split('\n')[0]).toContain('m / t, pruned by edges: 3 nodes, 2 edges');
  });
});
