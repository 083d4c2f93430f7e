import type { GEdge } from './layout';

/**
 * How edges look, as data shared by the canvas and the exported SVG. Edges are drawn in batches of one style (one
 * stroke call each: tens of thousands of edges cost a few dozen draw calls), widths rounded to WIDTH_STEP for that.
 */
export const POS = '#d6604d';
export const NEG = '#4393c3';
export const QK = '#8a63d2';
/** Stroke width steps, in graph units (a weight edge is 0.6 + 3 |w| / max |w| wide). */
export const WIDTH_STEP = 0.2;

export interface EdgeStyle {
  color: string;
  width: number;
  /** Dash pattern in graph units, empty for solid. */
  dash: number[];
}

export interface EdgeBatch {
  style: EdgeStyle;
  /** Indexes into the draw order. */
  edges: number[];
}

/** The order edges are drawn in: paths (residual, q·k) under the weights, weights from weakest to strongest, so the
 *  strongest are on top; the hit test prefers later edges on a tie, i.e. the one seen on top. */
export function drawOrder(edges: readonly GEdge[]): GEdge[] {
  const rank = (e: GEdge) => (e.kind === 'weight' ? 1 : 0);
  return [...edges].sort((a, b) => rank(a) - rank(b) || Math.abs(a.weight) - Math.abs(b.weight) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function edgeStyle(e: GEdge, maxW: number, muted: string): EdgeStyle {
  if (e.kind === 'residual') return { color: muted, width: 1, dash: [3, 3] };
  if (e.kind === 'qk') return { color: QK, width: 1, dash: [1, 3] };
  const raw = 0.6 + (3 * Math.abs(e.weight)) / (maxW || 1);
  return { color: e.weight >= 0 ? POS : NEG, width: Math.round(raw / WIDTH_STEP) * WIDTH_STEP, dash: [] };
}

/** Groups the ordered edges by style, batches in the order their first edge is drawn (thin under thick). */
export function styleBatches(ordered: readonly GEdge[], maxW: number, muted: string): EdgeBatch[] {
  const byKey = new Map<string, EdgeBatch>();
  ordered.forEach((e, i) => {
    const style = edgeStyle(e, maxW, muted);
    const key = `${style.color}|${style.width.toFixed(2)}|${style.dash.join(',')}`;
    let b = byKey.get(key);
    if (!b) byKey.set(key, (b = { style, edges: [] }));
    b.edges.push(i);
  });
  return [...byKey.values()];
}

/**
 * Opacity of the whole edge set: 0.85 as long as edges are few, lower when thousands overlap at the current zoom so
 * that the graph reads as density rather than a solid block, never below 0.12 (every edge is still drawn).
 */
export function edgeAlpha(count: number, zoom: number): number {
  const crowd = Math.sqrt(2000 / Math.max(count, 1)) * Math.max(zoom, 0.05);
  return Math.max(0.12, Math.min(0.85, 0.85 * crowd));
}
