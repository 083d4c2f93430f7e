import {
  CIRCUIT_EDGE_KINDS, nodeId, QK_EDGE_KINDS, RESIDUAL_FINAL_KIND, RESIDUAL_SUBLAYERS, siteName, WEIGHT_EDGE_KINDS,
  weightEdgeAt, keyAt, type EdgeKind, type NodeRef,
} from '../model/registry';
import type { LoadedCheckpoint } from '../model/weights';

/**
 * Edges of a circuit (docs/circuits.md, "What counts as an edge"): the registry's edge kinds (model/registry,
 * registry.json) applied to a set of kept nodes. Token embeddings and the unembedding are not nodes, so their
 * weights are not edges.
 */
export type { EdgeKind } from '../model/registry';

export interface CircuitEdge {
  source: string;
  target: string;
  weight: number;
  kind: EdgeKind;
}

/** Kept channels per site, ascending (edges come out in channel order, which circuit files and tests rely on). */
function bySite(nodes: readonly NodeRef[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const n of nodes) {
    let list = m.get(n.site);
    if (!list) m.set(n.site, (list = []));
    list.push(n.channel);
  }
  for (const list of m.values()) list.sort((a, b) => a - b);
  return m;
}

/** Entry (row, col) of a linear weight, whether the checkpoint holds it dense or kept sparse (ckpt.sparse). */
function weightReader(ckpt: LoadedCheckpoint, key: string): (row: number, col: number) => number {
  const W = ckpt.tensors.get(key);
  if (W) {
    const cols = W.shape[1]!;
    return (row, col) => W.data[row * cols + col]!;
  }
  const S = ckpt.sparse?.get(key);
  if (S) return (row, col) => S.get(row, col);
  throw new Error(`checkpoint lacks ${key}`);
}

export function extractEdges(ckpt: LoadedCheckpoint, nodes: readonly NodeRef[]): CircuitEdge[] {
  const c = ckpt.config;
  const kept = bySite(nodes);
  const chans = (layer: number | null, kind: string): number[] => kept.get(siteName(layer, kind)) ?? [];
  const id = (layer: number | null, kind: string, ch: number) => nodeId({ site: siteName(layer, kind), channel: ch });
  const edges: CircuitEdge[] = [];

  // Per layer: weight edges kind by kind (W is [out, in]; rowOffset selects q/k/v inside c_attn), then q-k pairs.
  for (let l = 0; l < c.nLayer; l++) {
    for (const spec of WEIGHT_EDGE_KINDS) {
      const at = weightEdgeAt(c, spec, l);
      const weightAt = weightReader(ckpt, at.weight);
      const ins = chans(l, spec.source);
      for (const o of chans(l, spec.target)) {
        for (const i of ins) {
          const w = weightAt(at.rowOffset + o, i);
          if (w !== 0) edges.push({ source: id(l, spec.source, i), target: id(l, spec.target, o), weight: w, kind: 'weight' });
        }
      }
    }
    for (const qk of QK_EDGE_KINDS) {
      const ks = new Set(chans(l, qk.target));
      for (const q of chans(l, qk.source)) if (ks.has(q)) edges.push({ source: id(l, qk.source, q), target: id(l, qk.target, q), weight: 1, kind: 'qk' });
    }
  }

  // Residual edges: a write at sublayer s reaches the reads of every later sublayer (whose norm keeps the channel)
  // and the final residual.
  const normNonzero = (key: string, ch: number) => {
    const w = ckpt.tensors.get(key);
    return !w || w.data[ch] !== 0;
  };
  const sublayers: { layer: number; read: string; write: string; norm: string }[] = [];
  for (let l = 0; l < c.nLayer; l++) for (const s of RESIDUAL_SUBLAYERS) sublayers.push({ layer: l, read: s.read, write: s.write, norm: keyAt(s.norm, l) });
  const finalChans = chans(null, RESIDUAL_FINAL_KIND);
  sublayers.forEach((s, si) => {
    for (const ch of chans(s.layer, s.write)) {
      const from = id(s.layer, s.write, ch);
      for (const r of sublayers.slice(si + 1)) {
        if (chans(r.layer, r.read).includes(ch) && normNonzero(r.norm, ch)) {
          edges.push({ source: from, target: id(r.layer, r.read, ch), weight: 1, kind: 'residual' });
        }
      }
      if (finalChans.includes(ch)) edges.push({ source: from, target: id(null, RESIDUAL_FINAL_KIND, ch), weight: 1, kind: 'residual' });
    }
  });
  return edges;
}

export function countEdgesByKind(edges: readonly CircuitEdge[]): Record<EdgeKind, number> {
  const out = Object.fromEntries(CIRCUIT_EDGE_KINDS.map((k) => [k, 0])) as Record<EdgeKind, number>;
  for (const e of edges) out[e.kind]++;
  return out;
}
