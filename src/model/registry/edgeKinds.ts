import type { ModelConfig } from '../config';
import { REGISTRY, type WeightEdgeSpec } from './data';
import { dimension } from './dimension';
import { parseNodeId, tryParseNodeId, type NodeRef } from './nodeIds';
import { parseSite, siteWidth } from './siteKinds';

/**
 * Edge kinds (registry.json "edgeKinds", docs/circuits.md "What counts as an edge"):
 *  - weight: one nonzero entry W[rowOffset + target channel, source channel] of a Linear weight ([out, in]) between
 *    two sites of the same layer. Ablating it is an exact weight edit.
 *  - residual: a residual write (a sublayer's `write` site, channel c) reaching the `read` site of a later sublayer
 *    (when that sublayer's norm weight for c is nonzero) and the final residual, same channel. Weight 1.
 *  - qk: a q channel and the k channel of the same index and layer (they meet in one head's dot product). Weight 1.
 * All three can be ablated (docs/circuits.md, "Ablating an edge"); edgeKindOf says which kind a pair is.
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

/** A node id or an already parsed node. */
type NodeLike = string | NodeRef;

/** Position of a residual read or write in forward order: sublayer index over all layers; final_resid comes last. */
function residualOrder(layer: number | null, kind: string, role: 'read' | 'write'): number | null {
  if (layer === null) return role === 'read' && kind === RESIDUAL_FINAL_KIND ? Infinity : null;
  const i = RESIDUAL_SUBLAYERS.findIndex((s) => s[role] === kind);
  return i < 0 ? null : layer * RESIDUAL_SUBLAYERS.length + i;
}

/** The edge kind joining two nodes, judged on site kinds, layers and channels alone, or why they are not an edge. */
function pairKind(s: NodeRef, t: NodeRef): EdgeKind | string {
  const sp = parseSite(s.site);
  const tp = parseSite(t.site);
  if (sp.layer !== null && sp.layer === tp.layer && BY_PAIR.has(`${sp.kind}>${tp.kind}`)) return 'weight';
  if (QK_EDGE_KINDS.some((k) => k.source === sp.kind && k.target === tp.kind)) {
    if (sp.layer !== tp.layer || s.channel !== t.channel) return 'a q·k edge joins q channel c to k channel c of the same layer';
    return 'qk';
  }
  const w = residualOrder(sp.layer, sp.kind, 'write');
  const r = residualOrder(tp.layer, tp.kind, 'read');
  if (w !== null && r !== null) {
    if (s.channel !== t.channel || r <= w) return 'a residual edge joins a write to a later read (or final_resid) of the same channel';
    return 'residual';
  }
  return 'no edge kind of the registry joins these sites';
}

const asNode = (n: NodeLike): NodeRef => (typeof n === 'string' ? parseNodeId(n) : n);

/**
 * The edge kind (weight, residual or qk) joining source to target in this model, or a clear error for a pair that is
 * no edge: the kinds of registry.json "edgeKinds" with layers and channels in range. Residual and q·k edges are
 * structural: they exist for every channel of the right sites, whatever the weights (edges.ts draws a residual edge
 * only where the reader's norm weight is nonzero; ablating one where it is zero still changes the norm's scale).
 */
export function edgeKindOf(c: ModelConfig, source: NodeLike, target: NodeLike): EdgeKind {
  const s = asNode(source);
  const t = asNode(target);
  const name = `${s.site}:${s.channel} -> ${t.site}:${t.channel}`;
  for (const n of [s, t]) {
    const layer = parseSite(n.site).layer;
    if (layer !== null && layer >= c.nLayer) throw new Error(`not an edge: ${name} (the model has ${c.nLayer} layers)`);
    if (n.channel >= siteWidth(c, n.site)) throw new Error(`not an edge: ${name} (channel ${n.channel} is outside ${n.site}, width ${siteWidth(c, n.site)})`);
  }
  const kind = pairKind(s, t);
  if (kind === 'weight' || kind === 'residual' || kind === 'qk') return kind;
  throw new Error(`not an edge: ${name} (${kind})`);
}

/**
 * The edge kind joining two node ids, or null: what the graph offers to ablate. Needs no config, so layer and channel
 * ranges are not checked; malformed ids are simply not edges.
 */
export function pairEdgeKind(sourceId: string, targetId: string): EdgeKind | null {
  const s = tryParseNodeId(sourceId);
  const t = tryParseNodeId(targetId);
  if (!s || !t) return null;
  const kind = pairKind(s, t);
  return kind === 'weight' || kind === 'residual' || kind === 'qk' ? kind : null;
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

