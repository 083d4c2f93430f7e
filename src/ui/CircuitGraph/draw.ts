import * as d3 from 'd3';
import type { GEdge, GNode, GraphLayout } from './layout';

/**
 * Imperative SVG drawing of the circuit. Colours are written as attributes (not CSS variables) so an exported SVG
 * looks the same outside the page. drawGraph builds the structure once per layout; styleGraph recolours it on every
 * engine answer without rebuilding, and hover only toggles classes (see CircuitGraph.tsx).
 */
export interface Palette { fg: string; muted: string; border: string; panel: string; accent: string }

export const POS = '#d6604d';
export const NEG = '#4393c3';
export const QK = '#8a63d2';
const R = 8;

export function readPalette(el: Element): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return { fg: v('--fg', '#1d1f24'), muted: v('--muted', '#626775'), border: v('--border', '#d9dce3'), panel: v('--panel', '#fff'), accent: v('--accent', '#2f6fde') };
}

function edgePath(e: GEdge, g: GraphLayout): string {
  const s = g.byId.get(e.source)!;
  const t = g.byId.get(e.target)!;
  if (e.kind === 'qk') {
    // q and k rows are adjacent: a small arc to the side keeps the pair visible next to the vertical flow.
    const bend = Math.max(12, Math.abs(t.x - s.x) / 2);
    return `M${s.x + R},${s.y}Q${(s.x + t.x) / 2 + bend},${(s.y + t.y) / 2} ${t.x + R},${t.y}`;
  }
  if (e.kind === 'residual' || s.x === t.x) return `M${s.x},${s.y - R}L${t.x},${t.y + R}`;
  const my = (s.y + t.y) / 2;
  return `M${s.x},${s.y - R}C${s.x},${my} ${t.x},${my} ${t.x},${t.y + R}`;
}

export interface DrawHandlers {
  nodeClick: (n: GNode, ev: MouseEvent) => void;
  edgeClick: (e: GEdge, ev: MouseEvent) => void;
  hover: (node: string | null, edge: string | null) => void;
}

/** Draws the graph; weight edges below `threshold` are not drawn at all (they would only cost DOM nodes). */
export function drawGraph(svgEl: SVGSVGElement, g: GraphLayout, pal: Palette, h: DrawHandlers, threshold: number): void {
  const svg = d3.select(svgEl);
  svg.selectAll('*').remove();
  const st = stateOf(svgEl);
  st.nodes.clear();
  st.edges = '\u0000'; // never equal to a real key: the fresh edges get their style on the next update
  svg.attr('viewBox', `0 0 ${g.width} ${g.height}`).attr('font-family', 'ui-monospace, monospace');
  // Keep the user's zoom across redraws (threshold changes, theme switches).
  const root = svg.append('g').attr('class', 'zoom-layer').attr('transform', d3.zoomTransform(svgEl).toString());
  const rows = root.append('g').attr('class', 'rows');
  rows.selectAll('line').data(g.rows).join('line')
    .attr('x1', 0).attr('x2', g.width).attr('y1', (r) => r.y).attr('y2', (r) => r.y)
    .attr('stroke', pal.border).attr('stroke-width', (r) => (r.layerStart ? 1 : 0.4)).attr('stroke-dasharray', '2 4');
  rows.selectAll('text').data(g.rows).join('text')
    .attr('x', 4).attr('y', (r) => r.y + 3).attr('font-size', 10).attr('fill', pal.muted).text((r) => r.label);
  const heads = root.append('g').attr('class', 'heads');
  heads.selectAll('rect').data(g.heads).join('rect')
    .attr('x', (d) => d.x0).attr('y', (d) => d.y0).attr('width', (d) => d.x1 - d.x0).attr('height', (d) => d.y1 - d.y0)
    .attr('rx', 6).attr('fill', 'none').attr('stroke', pal.border);
  heads.selectAll('text').data(g.heads).join('text')
    .attr('x', (d) => d.x0 + 2).attr('y', (d) => d.y0 - 2).attr('font-size', 9).attr('fill', pal.muted).text((d) => `h${d.head}`);

  const maxW = d3.max(g.edges.filter((e) => e.kind === 'weight'), (e) => Math.abs(e.weight)) || 1;
  const shown = g.edges.filter((e) => e.kind !== 'weight' || Math.abs(e.weight) >= threshold);
  root.append('g').attr('class', 'edges').selectAll<SVGPathElement, GEdge>('path').data(shown, (e) => e.id).join('path')
    .attr('class', 'edge').attr('data-edge', (e) => e.id).attr('data-kind', (e) => e.kind).attr('data-weight', (e) => e.weight).attr('data-ablatable', (e) => String(e.ablatable)).attr('d', (e) => edgePath(e, g)).attr('fill', 'none')
    .attr('stroke', (e) => (e.kind === 'residual' ? pal.muted : e.kind === 'qk' ? QK : e.weight >= 0 ? POS : NEG))
    .attr('stroke-width', (e) => (e.kind === 'weight' ? 0.6 + 3 * Math.abs(e.weight) / maxW : 1))
    .attr('stroke-dasharray', (e) => (e.kind === 'residual' ? '3 3' : e.kind === 'qk' ? '1 3' : null))
    .style('cursor', (e) => (e.ablatable ? 'pointer' : 'help'))
    .on('click', (ev: MouseEvent, e) => h.edgeClick(e, ev))
    .on('mouseenter', (_ev, e) => h.hover(null, e.id)).on('mouseleave', () => h.hover(null, null))
    .append('title').text((e) => `${e.source} → ${e.target}\n${e.kind === 'residual' ? 'residual stream (identity)' : e.kind === 'qk' ? 'q·k pair in one head' : `weight ${e.weight.toFixed(4)}`}${e.ablatable ? '\nclick: ablate this weight' : ''}`);

  const nodes = root.append('g').attr('class', 'nodes').selectAll<SVGGElement, GNode>('g').data(g.nodes, (n) => n.id).join('g')
    .attr('class', 'node').attr('data-node', (n) => n.id).attr('id', (n) => `node-${n.id.replace(/[.:]/g, '_')}`)
    .attr('transform', (n) => `translate(${n.x},${n.y})`).style('cursor', 'pointer')
    .on('click', (ev: MouseEvent, n) => h.nodeClick(n, ev))
    // Right-click (the context-menu gesture) inspects, like shift-click.
    .on('contextmenu', (ev: MouseEvent, n) => { ev.preventDefault(); h.nodeClick(n, new MouseEvent('click', { shiftKey: true })); })
    .on('mouseenter', function (_ev, n) {
      d3.select(this).select('title').text(nodeTitle(svgEl, n));
      h.hover(n.id, null);
    })
    .on('mouseleave', () => h.hover(null, null));
  nodes.each(function (n) {
    const sel = d3.select(this);
    if (n.residual) sel.append('rect').attr('class', 'shape').attr('x', -R).attr('y', -R).attr('width', 2 * R).attr('height', 2 * R).attr('rx', 2);
    else sel.append('circle').attr('class', 'shape').attr('r', R);
  });
  nodes.select('.shape').attr('fill', pal.panel).attr('stroke', pal.fg).attr('stroke-width', 1);
  nodes.append('text').attr('class', 'label').attr('y', R + 9).attr('text-anchor', 'middle').attr('font-size', 8).attr('fill', pal.muted).text((n) => n.channel);
  nodes.append('title').text((n) => n.id);
}

export interface StyleInput {
  /** node id -> value at the selected position (current variant). */
  value: Map<string, number>;
  /** node id -> value at the selected position (reference variant). */
  baseline: Map<string, number>;
  ablatedNodes: Set<string>;
  ablatedEdges: Set<string>;
  selected: string | null;
  active: string | null;
  pal: Palette;
}

/** Per drawn SVG: the style last written to each node (so an update touches only what changed) and the latest
 *  input (so a node's tooltip is composed when it is hovered, not on every update). */
const applied = new WeakMap<SVGSVGElement, { nodes: Map<string, string>; edges: string; latest: StyleInput | null }>();

function stateOf(svgEl: SVGSVGElement) {
  let st = applied.get(svgEl);
  if (!st) applied.set(svgEl, (st = { nodes: new Map(), edges: '', latest: null }));
  return st;
}

/** The tooltip of a node under the latest style input. */
export function nodeTitle(svgEl: SVGSVGElement, n: GNode): string {
  const s = stateOf(svgEl).latest;
  const v = s?.value.get(n.id);
  const b = s?.baseline.get(n.id);
  const was = v !== undefined && b !== undefined && v !== b ? ` (reference ${b.toFixed(4)})` : '';
  return `${n.id}${n.score !== undefined ? `  score ${n.score.toFixed(3)}` : ''}\nvalue ${v?.toFixed(4) ?? '–'}${was}${s?.ablatedNodes.has(n.id) ? '\nablated' : ''}\nclick: ablate · shift-click or right-click: inspect`;
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
  const edgeKey = [...s.ablatedEdges].sort().join(',');
  if (edgeKey === st.edges) return;
  st.edges = edgeKey;
  svg.selectAll<SVGPathElement, GEdge>('path.edge')
    .attr('data-ablated', (e) => (s.ablatedEdges.has(e.id) ? 'true' : null))
    .attr('opacity', (e) => (s.ablatedEdges.has(e.id) ? 0.25 : 0.85));
}

/** Hover: a node's or edge's neighbourhood stands out, everything else dims (classes only; no React). */
export function highlight(svgEl: SVGSVGElement, g: GraphLayout, node: string | null, edge: string | null): void {
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
  svg.selectAll<SVGPathElement, GEdge>('path.edge').classed('hl', (e) => edges.has(e.id));
}

/** The keyboard's edge cursor (CircuitGraph's E key). A class styled by graph.css, not an attribute: restyling does
 *  not erase it, and an exported SVG (colours as attributes) does not show it. */
export function markKeyboardEdge(svgEl: SVGSVGElement, edge: string | null): void {
  d3.select(svgEl).selectAll<SVGPathElement, GEdge>('path.edge').classed('kbd', (e) => e.id === edge);
}
