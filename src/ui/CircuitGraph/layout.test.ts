import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../circuit/circuitSchema';
import { isAblatableEdge, layoutCircuit, MAX_PER_LINE } from './layout';
import { neighbour, searchNodes } from './navigation';

const node = (id: string) => ({ site: id.slice(0, id.lastIndexOf(':')), channel: Number(id.slice(id.lastIndexOf(':') + 1)) });
const circuit = {
  nodes: ['0.attn.act_in:5', '0.attn.q:3', '0.attn.k:9', '0.attn.v:2', '0.attn.resid_delta:5', '0.mlp.post_act:7', '1.attn.act_in:5', '1.mlp.resid_delta:1'].map(node),
  edges: [
    { source: '0.attn.act_in:5', target: '0.attn.q:3', weight: 0.5, kind: 'weight' },
    { source: '0.attn.q:3', target: '0.attn.k:9', weight: 1, kind: 'qk' },
    { source: '0.attn.resid_delta:5', target: '1.attn.act_in:5', weight: 1, kind: 'residual' },
    { source: '0.attn.act_in:5', target: '0.mlp.post_act:99', weight: 1, kind: 'weight' },
  ],
} as unknown as CircuitFile;

describe('circuit layout', () => {
  const g = layoutCircuit(circuit, 4, 2);
  const at = (id: string) => g.byId.get(id)!;
  it('stacks layers bottom to top with sites in forward order', () => {
    expect(at('0.attn.act_in:5').y).toBeGreaterThan(at('0.attn.q:3').y);
    expect(at('0.attn.q:3').y).toBeGreaterThan(at('0.attn.v:2').y);
    expect(at('0.mlp.post_act:7').y).toBeGreaterThan(at('1.attn.act_in:5').y);
    expect(g.rows).toHaveLength(16);
    // Rows and labels follow the registry's site kinds; the first kind of a layer marks its boundary.
    expect(g.rows.slice(0, 8).map((r) => r.label)).toEqual(['0 attn read', '0 q', '0 k', '0 v', '0 attn write', '0 mlp read', '0 neuron', '0 mlp write']);
    expect(g.rows.filter((r) => r.layerStart).map((r) => r.label)).toEqual(['0 attn read', '1 attn read']);
  });
  it('puts one residual channel in one column, and groups q/k/v by head', () => {
    expect(at('0.attn.act_in:5').x).toBe(at('1.attn.act_in:5').x);
    expect(at('0.attn.resid_delta:5').x).toBe(at('0.attn.act_in:5').x);
    expect(at('0.attn.q:3').head).toBe(0);
    expect(at('0.attn.k:9').head).toBe(2);
    expect(g.heads.map((h) => h.head)).toEqual([0, 2]);
  });
  it('marks weight, residual and q·k pairs as ablatable, nothing else, and counts edges to unknown nodes', () => {
    // q:3 -> k:9 pairs different channels: no q·k edge.
    expect(g.edges.map((e) => e.ablatable)).toEqual([true, false, true]);
    expect(g.orphanEdges).toBe(1);
    expect(isAblatableEdge('0.mlp.post_act:1', '0.mlp.resid_delta:2')).toBe(true);
    expect(isAblatableEdge('0.mlp.post_act:1', '1.mlp.resid_delta:2')).toBe(false);
    expect(isAblatableEdge('0.attn.q:3', '0.attn.k:3')).toBe(true);
    expect(isAblatableEdge('0.attn.resid_delta:5', '0.mlp.act_in:5')).toBe(true);
    expect(isAblatableEdge('0.mlp.resid_delta:5', 'final_resid:5')).toBe(true);
    expect(isAblatableEdge('0.mlp.resid_delta:5', '0.mlp.act_in:5')).toBe(false); // a read before the write
    expect(isAblatableEdge('0.mlp.resid_delta:5', '1.mlp.act_in:6')).toBe(false);
  });
  it('navigates by arrow direction and finds nodes by name', () => {
    expect(neighbour(g.nodes, at('0.attn.act_in:5'), 'up')!.id).toBe('0.attn.q:3');
    expect(neighbour(g.nodes, at('0.attn.q:3'), 'down')!.id).toBe('0.attn.act_in:5');
    expect(searchNodes(g.nodes, 'mlp.post_act:7').map((n) => n.id)).toEqual(['0.mlp.post_act:7']);
    expect(searchNodes(g.nodes, '0.attn.q:3')[0]!.id).toBe('0.attn.q:3');
  });
  it('wraps a row wider than MAX_PER_LINE onto more lines, keeping residual columns shared', () => {
    const many = {
      nodes: [...Array.from({ length: 150 }, (_, i) => `0.mlp.post_act:${i}`), ...Array.from({ length: 70 }, (_, i) => `0.attn.act_in:${i}`), '0.mlp.act_in:69'].map(node),
      edges: [],
    } as unknown as CircuitFile;
    const w = layoutCircuit(many, 4, 1);
    const ys = new Set(w.nodes.filter((n) => n.kind === 'mlp.post_act').map((n) => n.y));
    expect(ys.size).toBe(Math.ceil(150 / MAX_PER_LINE));
    expect(w.byId.get('0.mlp.act_in:69')!.x).toBe(w.byId.get('0.attn.act_in:69')!.x);
    expect(Math.max(...w.nodes.map((n) => n.x))).toBeLessThan(w.width);
    expect(new Set(w.nodes.map((n) => `${n.x},${n.y}`)).size).toBe(w.nodes.length);
  });
});
