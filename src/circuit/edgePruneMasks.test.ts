import { describe, expect, it } from 'vitest';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { SeededRng } from '../tasks/seeded';
import { edgeCandidates, type EdgeCandidates } from './edgePruneCandidates';
import { appliedMasks, edgeMaskGrad } from './edgePruneMasks';

/**
 * The host algebra of edge pruning: nodes follow from edges, and an edge is ablated on its own only between kept nodes.
 * The backward pass is checked against central differences of the multilinear relaxation
 * n_v = 1 - prod over v's edges (1 - m), eff_e = 1 - (1 - m_e) n_s n_t, under a random linear loss.
 */
function relaxed(c: EdgeCandidates, m: Float64Array, gNode: Float32Array, gEff: Float32Array): number {
  const notKept = new Float64Array(c.layout.total).fill(1);
  for (let e = 0; e < m.length; e++) {
    notKept[c.sourceNode[e]!]! *= 1 - m[e]!;
    notKept[c.targetNode[e]!]! *= 1 - m[e]!;
  }
  let loss = 0;
  for (let v = 0; v < notKept.length; v++) loss += gNode[v]! * (1 - notKept[v]!);
  for (let e = 0; e < m.length; e++) loss += gEff[e]! * (1 - (1 - m[e]!) * (1 - notKept[c.sourceNode[e]!]!) * (1 - notKept[c.targetNode[e]!]!));
  return loss;
}

describe('edge mask algebra', () => {
  const c = edgeCandidates(randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS }, seed: 3, density: 0.2 }));

  it('keeps exactly the nodes of kept edges, and ablates an edge on its own only between kept nodes', () => {
    const rng = new SeededRng(7);
    const m = Float32Array.from(c.edges, () => (rng.uniform() < 0.1 ? 1 : 0));
    const a = appliedMasks(c, m);
    const touched = new Set<number>();
    m.forEach((x, e) => x === 1 && touched.add(c.sourceNode[e]!).add(c.targetNode[e]!));
    a.node.forEach((n, v) => expect(n, `node ${v}`).toBe(touched.has(v) ? 1 : 0));
    m.forEach((x, e) => expect(a.eff[e]).toBe(x === 0 && touched.has(c.sourceNode[e]!) && touched.has(c.targetNode[e]!) ? 0 : 1));
    expect(() => appliedMasks(c, new Float32Array(3))).toThrow(/candidate edges/);
  });

  it('the gradient is the derivative of the relaxation at the 0/1 point', () => {
    const rng = new SeededRng(11);
    const m = Float32Array.from(c.edges, () => (rng.uniform() < 0.15 ? 1 : 0));
    const gNode = Float32Array.from({ length: c.layout.total }, () => rng.normal());
    const gEff = Float32Array.from(c.edges, () => rng.normal());
    const g = edgeMaskGrad(c, m, appliedMasks(c, m), gEff, gNode);
    const h = 1e-4;
    for (let e = 0; e < c.edges.length; e += Math.ceil(c.edges.length / 60)) {
      const up = Float64Array.from(m);
      const down = Float64Array.from(m);
      up[e] += h;
      down[e] -= h;
      const numeric = (relaxed(c, up, gNode, gEff) - relaxed(c, down, gNode, gEff)) / (2 * h);
      expect(g[e], `edge ${e} (${m[e] ? 'kept' : 'ablated'})`).toBeCloseTo(numeric, 3);
    }
  });
});
