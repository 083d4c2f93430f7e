import type { ModelConfig } from '../config';
import { REGISTRY, type WeightEdgeSpec } from './data';
import { dimension } from './dimension';
import { tryParseNodeId, type NodeRef } from './nodeIds';
import { parseSite, siteWidth } from './siteKinds';

/**
 * Edge kinds (registry.json "edgeKinds", docs/circuits.md "What counts as an edge"):
 *  - weight: one nonzero entry W[rowOffset + target channel, source channel] of a Linear weight ([out, in]) between
 *    two sites of the same layer. Ablating it is an exact weight edit, so these are the ablatable edges.
 *  - residual: a residual write (a sublayer's `write` site, channel c) reaching the `read` site of a later sublayer
 *    (when that sublayer's norm weight for c is nonzero) and the final residual, same channel. Weight 1.
 *  - qk: a q channel and the k channel of the same index and layer (they meet in one head's dot product). Weight 1.
 */
export const CIRCUIT_EDGE_KINDS = ['weight', 'residual', 'qk'] as const;
export type EdgeKind = (typeof CIRCUIT_EDGE_KINDS)[number];

export const WEIGHT_EDGE_KINDS: readonly WeightEdgeSpec[] = REGISTRY.edgeKinds.weight;
export const QK_EDGE_KINDS: readonly { source: string; target: string }[] = REGISTRY.edgeKinds.qk;
/** Residual sublayers in forward order within a layer; a layer's sublayers all come before the next layer's. */
export const RESIDUAL_SUBLAYERS: readonly { read: string; write: string; norm: string }[] = REGISTRY.edgeKinds.residual.sublayers;
export const RESIDUAL_FINAL_KIND: string = REGISTRY.edgeKinds.residual.final;

const BY_PAIR = new Map(WEIGHT_EDGE_KINDS.map((e) => [`${e.source}>${e.target}`, e]));

/** The weight-edge kind from one site kind to another, if any. */
export function weightEdgeKind(sourceKind: string, targetKind: string): WeightEdgeSpec | undefined {
  return BY_PAIR.get(`${sourceKind}>${targetKind}`);
}

/** A state-dict key pattern of registry.json (`transformer.h.{layer}.mlp.c_fc.weight`) at one layer. */
export function keyAt(pattern: string, layer: number): string {
  return pattern.replace('{layer}', String(layer));
}

/** A weight-edge kind resolved for one model and layer: the keys, the full weight shape and the target's row block. */
export interface WeightEdgeAt {
  spec: WeightEdgeSpec;
  layer: number;
  weight: string;
  bias: string;
  shape: [number, number];
  rowOffset: number;
}

export function weightEdgeAt(c: ModelConfig, spec: WeightEdgeSpec, layer: number): WeightEdgeAt {
  return {
    spec,
    layer,
    weight: keyAt(spec.weight, layer),
    bias: keyAt(spec.bias, layer),
    shape: [dimension(spec.shape[0], c), dimension(spec.shape[1], c)],
    rowOffset: dimension(spec.rowOffset, c),
  };
}

/** Where an edge lives: `weight[row, col]` and the bias entry `bias[row]` of one Linear. */
export interface EdgeLocation {
  weight: string;
  bias: string;
  row: number;
  col: number;
}

/** Maps an edge between two nodes to the weight entry it is, or throws for pairs that are not edges. */
export function edgeLocation(c: ModelConfig, source: NodeRef, target: NodeRef): EdgeLocation {
  const s = parseSite(source.site);
  const t = parseSite(target.site);
  const bad = () => new Error(`not an edge: ${source.site}:${source.channel} -> ${target.site}:${target.channel}`);
  if (s.layer === null || t.layer === null || s.layer !== t.layer) throw bad();
  if (source.channel >= siteWidth(c, source.site) || target.channel >= siteWidth(c, target.site)) throw bad();
  const spec = weightEdgeKind(s.kind, t.kind);
  if (!spec) throw bad();
  const at = weightEdgeAt(c, spec, s.layer);
  return { weight: at.weight, bias: at.bias, row: at.rowOffset + target.channel, col: source.channel };
}

/**
 * Whether two node ids are joined by a weight edge kind (same layer, a kind pair of the table): what the graph
 * offers to ablate. Needs no config, so channel ranges are not checked; malformed ids are simply not edges.
 */
export function isWeightEdge(sourceId: string, targetId: string): boolean {
  const s = tryParseNodeId(sourceId);
  const t = tryParseNodeId(targetId);
  if (!s || !t) return false;
  const sp = parseSite(s.site);
  const tp = parseSite(t.site);
  return sp.layer !== null && sp.layer === tp.layer && BY_PAIR.has(`${sp.kind}>${tp.kind}`);
}

