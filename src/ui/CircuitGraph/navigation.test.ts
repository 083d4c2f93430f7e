import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../circuit/circuitSchema';
import { layoutCircuit } from './layout';
import { cycleEdge, incidentEdges } from './navigation';

const node = (id: string) => ({ site: id.slice(0, id.lastIndexOf(':')), channel: Number(id.slice(id.lastIndexOf(':') + 1)) });
const circuit = {
  nodes: ['0.attn.act_in:5', '0.attn.q:3', '0.attn.k:9', '0.attn.v:2', '0.attn.resid_delta:5', '1.attn.act_in:5'].map(node),
  edges: [
    { source: '0.attn.act_in:5', target: '0.attn.q:3', weight: 0.5, kind: 'weight' },
    { source: '0.attn.act_in:5', target: '0.attn.v:2', weight: -0.9, kind: 'weight' },
    { source: '0.attn.act_in:5', target: '0.attn.k:9', weight: 0.01, kind: 'weight' },
    { source: '0.attn.q:3', target: '0.attn.k:9', weight: 1, kind: 'qk' },
    { source: '0.attn.resid_delta:5', target: '1.attn.act_in:5', weight: 1, kind: 'residual' },
  ],
} as unknown as CircuitFile;

describe('keyboard edge cursor', () => {
  const g = layoutCircuit(circuit, 4, 2);
  const ids = (node: string, t: number) => incidentEdges(g, node, t).map((e) => `${e.source}>${e.target}`);

  it('visits a node\'s drawn edges, ablatable weights first and strongest first', () => {
    expect(ids('0.attn.act_in:5', 0)).toEqual(['0.attn.act_in:5>0.attn.v:2', '0.attn.act_in:5>0.attn.q:3', '0.attn.act_in:5>0.attn.k:9']);
    expect(ids('0.attn.q:3', 0)).toEqual(['0.attn.act_in:5>0.attn.q:3', '0.attn.q:3>0.attn.k:9']);
  });

  it('skips weight edges hidden by the threshold but keeps paths', () => {
    expect(ids('0.attn.act_in:5', 0.1)).toHaveLength(2);
    expect(ids('0.attn.k:9', 0.1)).toEqual(['0.attn.q:3>0.attn.k:9']);
  });

  it('cycles forwards and backwards, wrapping', () => {
    const edges = incidentEdges(g, '0.attn.act_in:5', 0);
    expect(cycleEdge(edges, null, 1)).toBe(edges[0]);
    expect(cycleEdge(edges, null, -1)).toBe(edges[2]);
    expect(cycleEdge(edges, edges[2]!.id, 1)).toBe(edges[0]);
    expect(cycleEdge(edges, edges[0]!.id, -1)).toBe(edges[2]);
    expect(cycleEdge([], null, 1)).toBeUndefined();
  });
});
