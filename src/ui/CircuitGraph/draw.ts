import * as d3 from 'd3';
import { curveToSvg, NODE_R, type Curve } from './edgeGeometry';
import type { GEdge, GNode, GraphLayout } from './layout';

/**
 * Imperative SVG drawing of the circuit's nodes, rows and head groups (the edges are on a canvas underneath,
 * edgeCanvas.ts; only the few edges marked as ablated or under the keyboard cursor are SVG paths, drawEdgeMarks).
 * Colours are written as attributes (not CSS variables) so an exported SVG looks the same outside the page. drawGraph
 * builds the structure once per layout; styleGraph recolours it on every engine answer without rebuilding, and hover
 * only toggles classes (see CircuitGraph.tsx).
 */
export interface Palette { fg: string; muted: string; border: string; panel: string; accent: string }

export { NEG, POS, QK } from './edgeStyle';
const R = NODE_R;

export function readPalette(el: Element): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return { fg: v('--fg', '#1d1f24'), muted: v('--muted', '#626775'), border: v('--border', '#d9dce3'), panel: v('--panel', '#fff'), accent: v('--accent', '#2f6fde') };
}

/** Circuits up to this many nodes get labels large enough to read with the whole graph in view. */
export const READABLE_NODES = 150;

/**
 * Font sizes in graph units. A small circuit is shown whole at roughly half scale in a usual graph panel, so its labels
 * are drawn larger (a three-digit channel still fits the node spacing, DX); a big one is read by zooming in.
 */
export function labelSizes(g: GraphLayout): { node: number; row: number } {
  return g.nodes.length <= READABLE_NODES ? { node: 13, row: 13 } : { node: 8, row: 10 };
}

export interface DrawHandlers {
  nodeClick: (n: GNode, ev: MouseEvent) => void;
  hover: (node: string | null, edge: string | null) => void;
  /** A node's automatic label (circuit/nodeLabels.ts) for its hover text, when known. */
  labelOf?: (id: string) => string | undefined;
}

/** Draws rows, head groups and nodes, and an empty group for the edge marks (drawEdgeMarks) under the nodes. */
export function drawGraph(svgEl: SVGSVGElement, g: GraphLayout, pal: Palette, h: DrawHandlers): void {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const st = stateOf(svgEl);
  st.nodes.clear();
  svg.attr('viewBox', `0 0 ${g.width} ${g.height}`).attr('font-family', 'ui-monospace, monospace');
  const label = labelSizes(g);
  // Keep the user's zoom across redraws (threshold changes, theme switches).
  const root = svg.append('g').attr('class', 'zoom-layer').attr('transform', d3.zoomTransform(svgEl).toString());
  const rows = root.append('g').attr('class', 'rows');
  rows.selectAll('line').data(g.rows).join('line')
    .attr('x1', 0).attr('x2', g.width).attr('y1', (r) => r.y).attr('y2', (r) => r.y)
    .attr('stroke', pal.border).attr('stroke-width', (r) => (r.layerStart ? 1 : 0.4)).attr('stroke-dasharray', '2 4');
  rows.selectAll('text').data(g.rows).join('text')
    .attr('x', 4).attr('y', (r) => r.y + 3).attr('font-size', label.row).attr('fill', pal.muted).text((r) => r.label);
  const heads = root.append('g').attr('class', 'heads');
  heads.selectAll('rect').data(g.heads).join('rect')
    .attr('x', (d) => d.x0).attr('y', (d) => d.y0).attr('width', (d) => d.x1 - d.x0).attr('height', (d) => d.y1 - d.y0)
    .attr('rx', 6).attr('fill', 'none').attr('stroke', pal.border);
  heads.selectAll('text').data(g.heads).join('text')
    .attr('x', (d) => d.x0 + 2).attr('y', (d) => d.y0 - 2).attr('font-size', 9).attr('fill', pal.muted).text((d) => `h${d.head}`);

  root.append('g').attr('class', 'edge-marks').attr('fill', 'none').style('pointer-events', 'none');

  const nodes = root.append('g').attr('class', 'nodes').selectAll<SVGGElement, GNode>('g').data(g.nodes, (n) => n.id).join('g')
    .attr('class', 'node').attr('data-node', (n) => n.id).attr('id', (n) => `node-${n.id.replace(/[.:]/g, '_')}`)
    .attr('transform', (n) => `translate(${n.x},${n.y})`).style('cursor', 'pointer')
    .on('click', (ev: MouseEvent, n) => h.nodeClick(n, ev))
    // Right-click (the context-menu gesture) inspects, like shift-click.
    .on('contextmenu', (ev: MouseEvent, n) => { ev.preventDefault(); h.nodeClick(n, new MouseEvent('click', { shiftKey: true })); })
    .on('mouseenter', function (_ev, n) {
      d3.select(this).select('title').text(nodeTitle(svgEl, n, h.labelOf?.(n.id)));
      h.hover(n.id, null);
    })
    .on('mouseleave', () => h.hover(null, null));
  nodes.each(function (n) {
    const sel = d3.select(this);
    if (n.residual) sel.append('rect').attr('class', 'shape').attr('x', -R).attr('y', -R).attr('width', 2 * R).attr('height', 2 * R).attr('rx', 2);
    else sel.append('circle').attr('class', 'shape').attr('r', R);
  });
  nodes.select('.shape').attr('fill', pal.panel).attr('stroke', pal.fg).attr('stroke-width', 1);
  nodes.append('text').attr('class', 'label').attr('y', R + label.node + 1).attr('text-anchor', 'middle').attr('font-size', label.node).attr('fill', pal.muted).text((n) => n.channel);
  nodes.append('title').text((n) => n.id);
}

export interface StyleInput {
  /** node id -> value at the selected position (current variant). */
  value: Map<string, number>;
  /** node id -> value at the selected position (reference variant). */
  baseline: Map<string, number>;
  ablatedNodes: Set<string>;
  selected: string | null;
  active: string | null;
  pal: Palette;
}

/** Per drawn SVG: the style last written to each node (so an update touches only what changed) and the latest
 *  input (so a node's tooltip is composed when it is hovered, not on every update). */
const applied = new WeakMap<SVGSVGElement, { nodes: Map<string, string>; latest: StyleInput | null }>();

function stateOf(svgEl: SVGSVGElement) {
  let st = applied.get(svgEl);
  if (!st) applied.set(svgEl, (st = { nodes: new Map(), latest: null }));
  return st;
}

/** The tooltip of a node under the latest style input. */
export function nodeTitle(svgEl: SVGSVGElement, n: GNode, label?: string): string {
  const s = stateOf(svgEl).latest;
  const v = s?.value.get(n.id);
  const b = s?.baseline.get(n.id);
  const was = v !== undefined && b !== undefined && v !== b ? ` (reference ${b.toFixed(4)})` : '';
  return `${n.id}${n.score !== undefined ? `  score ${n.score.toFixed(3)}` : ''}${label ? `\nlabel: ${label}` : ''}\nvalue ${v?.toFixed(4) ?? '–'}${was}${s?.ablatedNodes.has(n.id) ? '\nablated' : ''}\nclick: ablate · shift-click or right-click: inspect`;
}

/** Recolours nodes by live activation and marks ablations and selection, writing only what changed. */
export function styleGraph(svgEl: SVGSVGElement, s: StyleInput): void {
  const svg = d3.select(svgEl);
  const st = stateOf(svgEl);
  st.latest = s;
  let maxAbs = 0;
  for (const v of s.value.values()) maxAbs = Math.max(maxAbs, Math.abs(v));
  const color = d3.scaleDiverging<string>([-(maxAbs || 1), 0, maxAbs || 1], (t) => d3.interpolateRdBu(1 - t));
  svg.selectAll<SVGGElement, GNode>('g.node').each(function (n) {
    const v = s.value.get(n.id);
    const b = s.baseline.get(n.id);
    const changed = v !== undefined && b !== undefined && Math.abs(v - b) > 1e-5 * Math.max(1, Math.abs(b));
    const ablated = s.ablatedNodes.has(n.id);
    const sel = n.id === s.selected;
    const fill = ablated ? s.pal.border : v === undefined ? s.pal.panel : color(v);
    const stroke = sel ? s.pal.accent : changed ? '#e6a700' : s.pal.fg;
    const sig = `${fill}|${stroke}|${sel}|${changed}|${ablated}|${n.id === s.active}|${v}`;
    if (st.nodes.get(n.id) === sig) return;
    st.nodes.set(n.id, sig);
    const g = d3.select(this);
    g.attr('data-value', v === undefined ? null : v.toPrecision(6)).attr('data-ablated', ablated ? 'true' : null)
      .classed('selected', sel).classed('active', n.id === s.active);
    g.select('.shape').attr('fill', fill).attr('stroke', stroke)
      .attr('stroke-width', sel ? 3 : changed ? 2.5 : 1).attr('stroke-dasharray', ablated ? '2 2' : null);
  });
}

/**
 * Hover: a node's or edge's neighbourhood stands out, everything else dims (node classes here; the edges it returns
 * are drawn on top by the canvas). No React.
 */
export function highlight(svgEl: SVGSVGElement, g: GraphLayout, node: string | null, edge: string | null): Set<string> | null {
  const svg = d3.select(svgEl);
  const on = node !== null || edge !== null;
  const nodes = new Set<string>();
  const edges = new Set<string>();
  if (node) {
    nodes.add(node);
    for (const e of g.edges) if (e.source === node || e.target === node) { edges.add(e.id); nodes.add(e.source); nodes.add(e.target); }
  }
  if (edge) {
    const e = g.edges.find((x) => x.id === edge);
    if (e) { edges.add(e.id); nodes.add(e.source); nodes.add(e.target); }
  }
  svg.classed('hovering', on);
  svg.selectAll<SVGGElement, GNode>('g.node').classed('hl', (n) => nodes.has(n.id));
  return on ? edges : null;
}

/** An edge drawn as an SVG mark over the canvas: ablated, or under the keyboard cursor. */
interface EdgeMark { edge: GEdge; curve: Curve; kind: 'ablated' | 'kbd'; ablated: boolean }

/**
 * The few edges that must stand out as SVG paths over the canvas: each ablated edge, dashed in the panel colour over
 * its canvas stroke (attributes, so an exported image shows it too), and the keyboard's edge cursor (`kbd`, coloured
 * by graph.css only, so an export does not show it). `curveOf` answers for drawn edges only.
 */
export function drawEdgeMarks(svgEl: SVGSVGElement, pal: Palette, marks: { edge: GEdge; kind: 'ablated' | 'kbd'; ablated: boolean }[], curveOf: (id: string) => Curve | undefined): void {
  const data: EdgeMark[] = marks.flatMap((m) => {
    const curve = curveOf(m.edge.id);
    return curve ? [{ ...m, curve }] : [];
  });
  d3.select(svgEl).select('g.edge-marks').selectAll<SVGPathElement, EdgeMark>('path.edge').data(data, (m) => `${m.kind}|${m.edge.id}`).join('path')
    .attr('class', (m) => `edge ${m.kind}`).attr('data-edge', (m) => m.edge.id).attr('data-kind', (m) => m.edge.kind)
    .attr('data-weight', (m) => m.edge.weight).attr('data-ablatable', (m) => String(m.edge.ablatable))
    .attr('data-ablated', (m) => (m.ablated ? 'true' : null)).attr('d', (m) => curveToSvg(m.curve))
    .attr('stroke', (m) => (m.kind === 'ablated' ? pal.panel : null)).attr('stroke-width', (m) => (m.kind === 'ablated' ? 2.5 : null))
    .attr('stroke-dasharray', (m) => (m.kind === 'ablated' ? '3 3' : null));
}
