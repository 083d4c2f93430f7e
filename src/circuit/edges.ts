import type { ModelConfig } from '../model/config';
import { nodeId, parseSite, type NodeRef, type SiteName } from '../model/sites';
import type { LoadedCheckpoint } from '../model/weights';

/**
 * Edges of a circuit (docs/circuits.md, "What counts as an edge"):
 *  - weight: a nonzero weight entry between two kept nodes of the same layer, along the four matrices:
 *    attn.act_in -> attn.q/k/v (c_attn), attn.v -> attn.resid_delta (attn c_proj; the attention output channel c is a
 *    mix of v channel c over positions), mlp.act_in -> mlp.post_act (c_fc), mlp.post_act -> mlp.resid_delta (mlp c_proj).
 *  - residual: a kept residual write (attn.resid_delta or mlp.resid_delta, channel c) to a kept residual read of the
 *    same channel c later in the forward pass (attn.act_in / mlp.act_in of a later sublayer, whose norm weight for c is
 *    nonzero, and final_resid). Weight 1.
 *  - qk: a kept attn.q channel c and the kept attn.k channel c of the same layer (they meet in the head's dot
 *    product). Weight 1.
 * Token embeddings and the unembedding are not nodes, so their weights are not edges.
 */
export type EdgeKind = 'weight' | 'residual' | 'qk';

export interface CircuitEdge {
  source: string;
  target: string;
  weight: number;
  kind: EdgeKind;
}

type Kind = ReturnType<typeof parseSite>['kind'];

function byKind(nodes: readonly NodeRef[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const n of nodes) {
    const key = n.site;
    let list = m.get(key);
    if (!list) m.set(key, (list = []));
    list.push(n.channel);
  }
  for (const list of m.values()) list.sort((a, b) => a - b);
  return m;
}

export function extractEdges(ckpt: LoadedCheckpoint, nodes: readonly NodeRef[]): CircuitEdge[] {
  const c: ModelConfig = ckpt.config;
  const kept = byKind(nodes);
  const chans = (layer: number | null, kind: Kind): number[] =>
    kept.get(layer === null ? 'final_resid' : (`${layer}.${kind}` as SiteName)) ?? [];
  const id = (layer: number | null, kind: Kind, ch: number) =>
    nodeId({ site: (layer === null ? 'final_resid' : `${layer}.${kind}`) as SiteName, channel: ch });
  const tensor = (key: string) => {
    const t = ckpt.tensors.get(key);
    if (!t) throw new Error(`checkpoint lacks ${key}`);
    return t;
  };
  const edges: CircuitEdge[] = [];
  const Q = c.nHead * c.dHead;

  // Weight edges: W is [out, in]; rowOffset selects q/k/v inside c_attn.
  const weightEdges = (layer: number, key: string, src: Kind, dst: Kind, rowOffset = 0) => {
    const W = tensor(key);
    const cols = W.shape[1]!;
    const ins = chans(layer, src);
    for (const o of chans(layer, dst)) {
      for (const i of ins) {
        const w = W.data[(rowOffset + o) * cols + i]!;
        if (w !== 0) edges.push({ source: id(layer, src, i), target: id(layer, dst, o), weight: w, kind: 'weight' });
      }
    }
  };
  for (let l = 0; l < c.nLayer; l++) {
    const p = `transformer.h.${l}`;
    weightEdges(l, `${p}.attn.c_attn.weight`, 'attn.act_in', 'attn.q', 0);
    weightEdges(l, `${p}.attn.c_attn.weight`, 'attn.act_in', 'attn.k', Q);
    weightEdges(l, `${p}.attn.c_attn.weight`, 'attn.act_in', 'attn.v', 2 * Q);
    weightEdges(l, `${p}.attn.c_proj.weight`, 'attn.v', 'attn.resid_delta');
    weightEdges(l, `${p}.mlp.c_fc.weight`, 'mlp.act_in', 'mlp.post_act');
    weightEdges(l, `${p}.mlp.c_proj.weight`, 'mlp.post_act', 'mlp.resid_delta');
    const ks = new Set(chans(l, 'attn.k'));
    for (const q of chans(l, 'attn.q')) if (ks.has(q)) edges.push({ source: id(l, 'attn.q', q), target: id(l, 'attn.k', q), weight: 1, kind: 'qk' });
  }

  // Residual edges. Sublayers in forward order: (layer, 'attn'), (layer, 'mlp'), ...; a write at sublayer s reaches
  // the reads of every later sublayer and final_resid.
  const normNonzero = (key: string, ch: number) => {
    const w = ckpt.tensors.get(key);
    return !w || w.data[ch] !== 0;
  };
  const sublayers: { layer: number; read: Kind; write: Kind; norm: string }[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    sublayers.push({ layer: l, read: 'attn.act_in', write: 'attn.resid_delta', norm: `transformer.h.${l}.ln_1.weight` });
    sublayers.push({ layer: l, read: 'mlp.act_in', write: 'mlp.resid_delta', norm: `transformer.h.${l}.ln_2.weight` });
  }
  sublayers.forEach((s, si) => {
    for (const ch of chans(s.layer, s.write)) {
      const from = id(s.layer, s.write, ch);
      for (const r of sublayers.slice(si + 1)) {
        if (chans(r.layer, r.read).includes(ch) && normNonzero(r.norm, ch)) {
          edges.push({ source: from, target: id(r.layer, r.read, ch), weight: 1, kind: 'residual' });
        }
      }
      if (chans(null, 'final_resid').includes(ch)) edges.push({ source: from, target: id(null, 'final_resid', ch), weight: 1, kind: 'residual' });
    }
  });
  return edges;
}

export function countEdgesByKind(edges: readonly CircuitEdge[]): Record<EdgeKind, number> {
  const out: Record<EdgeKind, number> = { weight: 0, residual: 0, qk: 0 };
  for (const e of edges) out[e.kind]++;
  return out;
}
