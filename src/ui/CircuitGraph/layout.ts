import type { CircuitFile } from '../../circuit/circuitSchema';
import { GLOBAL_SITE_KINDS, LAYER_SITE_KINDS, pairEdgeKind, parseSite, siteKind } from '../../model/registry';

/**
 * Positions of a circuit's nodes: layers bottom to top, each with the rows of its sites in forward order (the
 * registry's site kinds, labelled as it says). Residual-stream rows (kinds whose channels are residual channels)
 * share one column per channel across the whole graph, so a residual edge is a vertical line; consecutive per-head
 * rows (q/k/v) form one band of head groups that line up across its rows. Pure (no DOM), so it is unit-testable and
 * the SVG code only draws.
 */
export type RowKind = string;

export const DX = 26;
export const ROW_H = 40;
const MARGIN_L = 90;
const MARGIN = 24;
const HEAD_GAP = 14;

export interface GNode {
  id: string;
  site: string;
  kind: RowKind;
  layer: number | null;
  channel: number;
  head: number | null;
  residual: boolean;
  score?: number;
  x: number;
  y: number;
}

export interface GEdge {
  id: string;
  source: string;
  target: string;
  weight: number;
  /** weight: one nonzero weight entry; residual: a write reaching a later read of the channel; qk: a q and a k
   *  channel multiplied in one head's attention score. */
  kind: 'weight' | 'residual' | 'qk';
  /** A single weight entry the runtime can ablate (see model/interventions edge pairs). */
  ablatable: boolean;
}

/** layerStart: a row of the layer's first kind (drawn as the layer's boundary). */
export interface GRow { label: string; layer: number | null; kind: RowKind; y: number; layerStart: boolean }
export interface GHeadGroup { layer: number; head: number; x0: number; x1: number; y0: number; y1: number }

export interface GraphLayout {
  nodes: GNode[];
  edges: GEdge[];
  rows: GRow[];
  heads: GHeadGroup[];
  width: number;
  height: number;
  byId: Map<string, GNode>;
  /** Edges of the file whose endpoints are not among its nodes (not drawn, but counted). */
  orphanEdges: number;
  /** |weight| of every weight edge, ascending: threshold counts by binary search instead of a scan per render. */
  weightMagnitudes: Float64Array;
}

/** How many weight edges a threshold hides (|w| < t). */
export function hiddenByThreshold(g: GraphLayout, t: number): number {
  const a = g.weightMagnitudes;
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether the runtime can ablate this edge alone: a pair of an edge kind of the registry (a weight entry, a residual
 *  write reaching a later read of its channel, or q and k of one channel; docs/circuits.md, "Ablating an edge"). */
export const isAblatableEdge = (source: string, target: string): boolean => pairEdgeKind(source, target) !== null;

/** Nodes per line: a wider row wraps onto more lines, so a huge circuit stays legible instead of kilometre-wide. */
export const MAX_PER_LINE = 64;
/** Per-head kinds of a layer in forward order (q, k, v): laid out together as one band of head groups. */
const HEAD_KINDS = LAYER_SITE_KINDS.filter((k) => siteKind(k).channels === 'head');
const isResidual = (kind: string) => siteKind(kind).channels === 'residual';

export function layoutCircuit(circuit: CircuitFile, dHead: number, nLayer: number): GraphLayout {
  const nodes: GNode[] = circuit.nodes.map((n) => {
    const { layer, kind } = parseSite(n.site);
    const perHead = siteKind(kind).channels === 'head';
    return { id: `${n.site}:${n.channel}`, site: n.site, kind, layer, channel: n.channel, head: perHead ? Math.floor(n.channel / dHead) : null, residual: isResidual(kind), score: n.score, x: 0, y: 0 };
  });
  const groups = new Map<string, GNode[]>();
  for (const n of nodes) {
    const key = `${n.layer}|${n.kind}`;
    const g = groups.get(key);
    if (g) g.push(n);
    else groups.set(key, [n]);
  }
  for (const g of groups.values()) g.sort((a, b) => a.channel - b.channel);
  const group = (layer: number | null, kind: RowKind) => groups.get(`${layer}|${kind}`) ?? [];

  // Residual rows share one column per channel (wrapped the same way in every row), so residual edges are vertical.
  const resChannels = [...new Set(nodes.filter((n) => n.residual).map((n) => n.channel))].sort((a, b) => a - b);
  const resColumn = new Map(resChannels.map((c, i) => [c, i]));
  const resLines = Math.max(1, Math.ceil(resChannels.length / MAX_PER_LINE));
  const resPerLine = Math.min(MAX_PER_LINE, Math.max(1, resChannels.length));

  // Per-head kinds: per layer, head groups (width = most channels of that head in q, k or v) packed into lines.
  interface HeadSlot { head: number; line: number; x: number; slots: number }
  const headSlots = new Map<number, HeadSlot[]>();
  let inner = Math.max(resPerLine * DX, 1);
  for (let L = 0; L < nLayer; L++) {
    const per = new Map<number, number>();
    for (const kind of HEAD_KINDS) {
      const count = new Map<number, number>();
      for (const n of group(L, kind)) count.set(n.head!, (count.get(n.head!) ?? 0) + 1);
      for (const [h, c] of count) per.set(h, Math.max(per.get(h) ?? 0, c));
    }
    const slots: HeadSlot[] = [];
    let line = 0;
    let used = 0;
    for (const head of [...per.keys()].sort((a, b) => a - b)) {
      const w = per.get(head)!;
      if (used > 0 && used + w > MAX_PER_LINE) { line++; used = 0; }
      slots.push({ head, line, x: used, slots: w });
      used += w;
    }
    headSlots.set(L, slots);
    for (let l = 0; l <= line; l++) {
      const onLine = slots.filter((s) => s.line === l);
      inner = Math.max(inner, onLine.reduce((a, s) => a + s.slots * DX + HEAD_GAP, 0));
    }
    for (const kind of LAYER_SITE_KINDS) if (siteKind(kind).channels === 'neuron') inner = Math.max(inner, Math.min(MAX_PER_LINE, group(L, kind).length) * DX);
  }

  // Bands bottom to top: one per row kind in forward order, consecutive per-head kinds together as one band of
  // (q, k, v) triples per line; a global kind (final_resid) only when the circuit has nodes there.
  interface Band { layer: number | null; kinds: RowKind[]; lines: number }
  const bands: Band[] = [];
  const linesOf = (layer: number | null, kind: RowKind) =>
    isResidual(kind) ? resLines : Math.max(1, Math.ceil(group(layer, kind).length / MAX_PER_LINE));
  for (let L = 0; L < nLayer; L++) {
    const qkvLines = Math.max(1, ...(headSlots.get(L) ?? []).map((s) => s.line + 1));
    for (const kind of LAYER_SITE_KINDS) {
      const last = bands[bands.length - 1];
      if (!HEAD_KINDS.includes(kind)) bands.push({ layer: L, kinds: [kind], lines: linesOf(L, kind) });
      else if (last && last.layer === L && HEAD_KINDS.includes(last.kinds[0]!)) last.kinds.push(kind);
      else bands.push({ layer: L, kinds: [kind], lines: qkvLines });
    }
  }
  for (const kind of GLOBAL_SITE_KINDS) if (group(null, kind).length) bands.push({ layer: null, kinds: [kind], lines: linesOf(null, kind) });
  const totalRows = bands.reduce((a, b) => a + b.lines * b.kinds.length, 0);
  const height = MARGIN * 2 + totalRows * ROW_H;
  const width = MARGIN_L + inner + MARGIN * 2;
  const cx = MARGIN_L + MARGIN + inner / 2;

  const rows: GRow[] = [];
  const yOf = new Map<string, number>(); // `${layer}|${kind}|${line}` -> y
  let r = 0;
  for (const b of bands) for (let line = 0; line < b.lines; line++) for (const kind of b.kinds) {
    const y = height - MARGIN - ROW_H / 2 - r++ * ROW_H;
    yOf.set(`${b.layer}|${kind}|${line}`, y);
    rows.push({ label: `${b.layer === null ? '' : `${b.layer} `}${siteKind(kind).label}${b.lines > 1 ? ` ·${line + 1}` : ''}`, layer: b.layer, kind, y, layerStart: kind === LAYER_SITE_KINDS[0] });
  }
  const place = (n: GNode, line: number, x: number) => { n.x = x; n.y = yOf.get(`${n.layer}|${n.kind}|${line}`)!; };

  for (const [key, g] of groups) {
    const kind = key.slice(key.indexOf('|') + 1) as RowKind;
    if (g[0]!.residual) {
      for (const n of g) {
        const col = resColumn.get(n.channel)!;
        place(n, Math.floor(col / MAX_PER_LINE), cx - (resPerLine * DX) / 2 + ((col % MAX_PER_LINE) + 0.5) * DX);
      }
    } else if (siteKind(kind).channels === 'neuron') {
      g.forEach((n, i) => {
        const line = Math.floor(i / MAX_PER_LINE);
        const onLine = Math.min(MAX_PER_LINE, g.length - line * MAX_PER_LINE);
        place(n, line, cx - (onLine * DX) / 2 + ((i % MAX_PER_LINE) + 0.5) * DX);
      });
    }
  }
  const heads: GHeadGroup[] = [];
  for (const [L, slots] of headSlots) {
    const lines = new Set(slots.map((s) => s.line));
    for (const line of lines) {
      const onLine = slots.filter((s) => s.line === line);
      let x = cx - onLine.reduce((a, s) => a + s.slots * DX + HEAD_GAP, 0) / 2 + HEAD_GAP / 2;
      for (const s of onLine) {
        for (const kind of HEAD_KINDS) group(L, kind).filter((n) => n.head === s.head).forEach((n, i) => place(n, line, x + (i + 0.5) * DX));
        const yq = yOf.get(`${L}|${HEAD_KINDS[0]}|${line}`)!;
        const yv = yOf.get(`${L}|${HEAD_KINDS[HEAD_KINDS.length - 1]}|${line}`)!;
        heads.push({ layer: L, head: s.head, x0: x - 4, x1: x + s.slots * DX + 4, y0: yv - ROW_H / 2 + 4, y1: yq + ROW_H / 2 - 4 });
        x += s.slots * DX + HEAD_GAP;
      }
    }
  }

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: GEdge[] = circuit.edges
    .filter((e) => byId.has(e.source) && byId.has(e.target))
    .map((e) => ({ id: `${e.source}>${e.target}`, source: e.source, target: e.target, weight: e.weight, kind: e.kind, ablatable: isAblatableEdge(e.source, e.target) }));
  const weightMagnitudes = Float64Array.from(edges.filter((e) => e.kind === 'weight'), (e) => Math.abs(e.weight)).sort();
  return { nodes, edges, rows, heads, width, height, byId, orphanEdges: circuit.edges.length - edges.length, weightMagnitudes };
}
