import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../circuit/circuitSchema';
import { restrictCircuit } from './coreCircuit';

describe('the core view\'s part of a circuit', () => {
  const circuit = {
    nodes: [{ site: '0.attn.q', channel: 1 }, { site: '0.attn.k', channel: 1 }, { site: '0.mlp.post_act', channel: 4 }],
    edges: [
      { source: '0.attn.q:1', target: '0.attn.k:1', weight: 1, kind: 'qk' },
      { source: '0.attn.k:1', target: '0.mlp.post_act:4', weight: 0.5, kind: 'weight' },
    ],
  } as unknown as CircuitFile;

  it('keeps the given nodes and only the edges among them', () => {
    const core = restrictCircuit(circuit, new Set(['0.attn.q:1', '0.attn.k:1']))!;
    expect(core.nodes).toEqual(circuit.nodes.slice(0, 2));
    expect(core.edges).toEqual(circuit.edges.slice(0, 1));
  });

  it('is the circuit itself without a node set, and nothing without a circuit', () => {
    expect(restrictCircuit(circuit, null)).toBe(circuit);
    expect(restrictCircuit(null, new Set(['0.attn.q:1']))).toBeNull();
  });
});
