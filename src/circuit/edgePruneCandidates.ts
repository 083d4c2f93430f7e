import type { AblationMode } from '../model/interventions';
import { edgeLocation, parseNodeId, parseSite, siteWidth, type SiteName } from '../model/registry';
import type { LoadedCheckpoint } from '../model/weights';
import { extractEdges, type CircuitEdge } from './edges';
import { NodeLayout } from './nodeLayout';

/**
 * The edges edge pruning learns a mask for: every edge of the model by the rule of docs/circuits.md ("What counts as
 * an edge"), i.e. extractEdges over every node. Grouped the way the pruning forward pass applies them: weight edges
 * per weight matrix (the mask multiplies the entry), residual edges per (writer site, reader site) pair (a channel
 * vector on the reader's copy of the residual stream), q·k edges per layer (a channel vector on k inside the scores).
 */
export interface WeightEdgeGroup {
  /** State-dict keys of the Linear; the device holds the weight transposed, [in, out]. */
  weight: string;
  bias: string;
  /** The site the matrix reads (whose mean fills an ablated entry in mean mode). */
  source: SiteName;
  inDim: number;
  outDim: number;
  /** Candidate edge indices, and for each its entry in the device matrix: col * outDim + row. */
  edges: Int32Array;
  flat: Int32Array;
}

export interface ChannelEdgeGroup {
  /** Residual: the writer and reader sites; q·k: the q and k sites of one layer. */
  source: SiteName;
  target: SiteName;
  width: number;
  edges: Int32Array;
  channels: Int32Array;
}

export interface EdgeCandidates {
  layout: NodeLayout;
  edges: CircuitEdge[];
  /** Node indices (layout) of each edge's ends. */
  sourceNode: Int32Array;
  targetNode: Int32Array;
  weightGroups: WeightEdgeGroup[];
  residualGroups: ChannelEdgeGroup[];
  qkGroups: ChannelEdgeGroup[];
}

/** Key of an edge, `source->target` (node ids), as circuit files and interventions name it. */
export const edgeKey = (e: Pick<CircuitEdge, 'source' | 'target'>): string => `${e.source}->${e.target}`;

function group<T extends { edges: number[] }>(map: Map<string, T>, key: string, make: () => T): T {
  let g = map.get(key);
  if (!g) map.set(key, (g = make()));
  return g;
}

export function edgeCandidates(ckpt: LoadedCheckpoint): EdgeCandidates {
  const c = ckpt.config;
  if (ckpt.sparse?.size) throw new Error('edge pruning needs the dense weights; this model is loaded in the sparse representation');
  const layout = new NodeLayout(c);
  const all = Array.from({ length: layout.total }, (_, i) => layout.node(i));
  const edges = extractEdges(ckpt, all);
  const sourceNode = new Int32Array(edges.length);
  const targetNode = new Int32Array(edges.length);
  const weights = new Map<string, Omit<WeightEdgeGroup, 'edges' | 'flat'> & { edges: number[]; flat: number[] }>();
  const channels = { residual: new Map<string, Omit<ChannelEdgeGroup, 'edges' | 'channels'> & { edges: number[]; channels: number[] }>(), qk: new Map() };
  edges.forEach((e, i) => {
    const s = parseNodeId(e.source);
    const t = parseNodeId(e.target);
    sourceNode[i] = layout.index(s);
    targetNode[i] = layout.index(t);
    if (e.kind === 'weight') {
      const loc = edgeLocation(c, s, t);
      const W = ckpt.tensors.get(loc.weight)!;
      const g = group(weights, loc.weight, () => ({ weight: loc.weight, bias: loc.bias, source: s.site, inDim: W.shape[1]!, outDim: W.shape[0]!, edges: [], flat: [] }));
      g.edges.push(i);
      g.flat.push(loc.col * g.outDim + loc.row);
    } else {
      const map = channels[e.kind] as typeof channels.residual;
      const g = group(map, `${s.site}>${t.site}`, () => ({ source: s.site, target: t.site, width: siteWidth(c, t.site), edges: [], channels: [] }));
      g.edges.push(i);
      g.channels.push(t.channel);
    }
  });
  const freezeW = [...weights.values()].map((g) => ({ ...g, edges: Int32Array.from(g.edges), flat: Int32Array.from(g.flat) }));
  const freezeC = (m: typeof channels.residual) => [...m.values()].map((g) => ({ ...g, edges: Int32Array.from(g.edges), channels: Int32Array.from(g.channels) }));
  return { layout, edges, sourceNode, targetNode, weightGroups: freezeW, residualGroups: freezeC(channels.residual), qkGroups: freezeC(channels.qk) };
}

/** What replaces an ablated quantity of a site: its mean over pretraining text (means.safetensors) or 0. */
export function siteFill(ckpt: LoadedCheckpoint, site: SiteName, mode: AblationMode): Float32Array {
  const w = siteWidth(ckpt.config, site);
  if (mode === 'zero') return new Float32Array(w);
  const m = ckpt.means.get(site);
  if (!m) throw new Error(`mean ablation needs the mean of site ${site}, but the checkpoint has no means for it`);
  return m;
}

/** The layer of a q·k group (both sites are in it). */
export const groupLayer = (g: ChannelEdgeGroup): number => parseSite(g.source).layer!;
