import type { EdgeCandidates } from './edgePruneCandidates';

/**
 * Host algebra between the edge masks m (0/1, one per candidate edge) and what the pruning forward pass applies
 * (docs/circuits.md, "Pruning by edges"). Nodes follow from their edges: a node is kept when at least one of its
 * edges is kept (n = 1 - prod(1 - m) over its edges), and every other node is ablated, as the runtime's `circuit`
 * restriction does. An edge is ablated on its own only when both its ends are kept (m_eff = 1 - (1 - m) * n_s * n_t);
 * when an end is ablated the node ablation already does it. That is exactly the runtime's edge circuit: the circuit
 * restriction to the kept edges' nodes plus an `edge` ablation of every unkept candidate edge between kept nodes.
 *
 * The backward pass is the chain rule through that multilinear relaxation (evaluated at the 0/1 point), so the
 * device only differentiates with respect to the node masks and the effective edge masks.
 */
export interface AppliedMasks {
  /** Per node (layout order): 1 = kept. */
  node: Float32Array;
  /** Per candidate edge: the mask the forward pass applies (1 = present). */
  eff: Float32Array;
  /** Kept edges per node. */
  keptAt: Int32Array;
}

export function appliedMasks(c: EdgeCandidates, m: Float32Array): AppliedMasks {
  const E = c.edges.length;
  if (m.length !== E) throw new Error(`edge mask has ${m.length} entries, the model has ${E} candidate edges`);
  const keptAt = new Int32Array(c.layout.total);
  for (let e = 0; e < E; e++) {
    if (m[e]! !== 0 && m[e]! !== 1) throw new Error('edge masks must be 0 or 1');
    if (m[e] === 1) {
      keptAt[c.sourceNode[e]!]++;
      keptAt[c.targetNode[e]!]++;
    }
  }
  const node = new Float32Array(c.layout.total);
  for (let v = 0; v < node.length; v++) node[v] = keptAt[v]! > 0 ? 1 : 0;
  const eff = new Float32Array(E);
  for (let e = 0; e < E; e++) eff[e] = 1 - (1 - m[e]!) * node[c.sourceNode[e]!]! * node[c.targetNode[e]!]!;
  return { node, eff, keptAt };
}

/**
 * dL/dm from the device's dL/d(eff) and dL/d(node):
 *   dL/dm_e = gEff_e * n_s * n_t + sum over e's ends v with no other kept edge of G_v,
 *   G_v = gNode_v - sum over edges e' at v of gEff_e' * (1 - m_e') * n_(other end of e').
 */
export function edgeMaskGrad(c: EdgeCandidates, m: Float32Array, a: AppliedMasks, gEff: Float32Array, gNode: Float32Array): Float32Array {
  const E = c.edges.length;
  const G = Float64Array.from(gNode);
  for (let e = 0; e < E; e++) {
    if (m[e] === 1) continue;
    const s = c.sourceNode[e]!;
    const t = c.targetNode[e]!;
    G[s] -= gEff[e]! * a.node[t]!;
    G[t] -= gEff[e]! * a.node[s]!;
  }
  const out = new Float32Array(E);
  for (let e = 0; e < E; e++) {
    const s = c.sourceNode[e]!;
    const t = c.targetNode[e]!;
    let g = gEff[e]! * a.node[s]! * a.node[t]!;
    if (a.keptAt[s]! - m[e]! === 0) g += G[s]!;
    if (a.keptAt[t]! - m[e]! === 0) g += G[t]!;
    out[e] = g;
  }
  return out;
}
