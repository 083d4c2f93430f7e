/**
 * The shape of an edge of the circuit graph as plain numbers: the same curve is traced onto the canvas, written into
 * an exported SVG and measured by the hit test, so what is clicked is what is drawn. Pure (no DOM), unit-tested.
 */

/** Radius of a node's circle (draw.ts draws nodes this size; edges start and end at their rims). */
export const NODE_R = 8;

export type Curve =
  | { kind: 'line'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'quad'; x0: number; y0: number; cx: number; cy: number; x1: number; y1: number }
  | { kind: 'cubic'; x0: number; y0: number; c1x: number; c1y: number; c2x: number; c2y: number; x1: number; y1: number };

interface Point { x: number; y: number }

/**
 * A weight edge is an S-curve from the top of its source to the bottom of its target (layers run bottom to top); an
 * edge between nodes in one column and a residual path are straight; a q·k pair (q and k rows are adjacent) is a small
 * arc to the side, so the pair stays visible next to the vertical flow.
 */
export function edgeCurve(kind: 'weight' | 'residual' | 'qk', s: Point, t: Point): Curve {
  if (kind === 'qk') {
    const bend = Math.max(12, Math.abs(t.x - s.x) / 2);
    return { kind: 'quad', x0: s.x + NODE_R, y0: s.y, cx: (s.x + t.x) / 2 + bend, cy: (s.y + t.y) / 2, x1: t.x + NODE_R, y1: t.y };
  }
  if (kind === 'residual' || s.x === t.x) return { kind: 'line', x0: s.x, y0: s.y - NODE_R, x1: t.x, y1: t.y + NODE_R };
  const my = (s.y + t.y) / 2;
  return { kind: 'cubic', x0: s.x, y0: s.y - NODE_R, c1x: s.x, c1y: my, c2x: t.x, c2y: my, x1: t.x, y1: t.y + NODE_R };
}

/** The curve as SVG path data. */
export function curveToSvg(c: Curve): string {
  const r = (v: number) => Math.round(v * 100) / 100;
  if (c.kind === 'line') return `M${r(c.x0)},${r(c.y0)}L${r(c.x1)},${r(c.y1)}`;
  if (c.kind === 'quad') return `M${r(c.x0)},${r(c.y0)}Q${r(c.cx)},${r(c.cy)} ${r(c.x1)},${r(c.y1)}`;
  return `M${r(c.x0)},${r(c.y0)}C${r(c.c1x)},${r(c.c1y)} ${r(c.c2x)},${r(c.c2y)} ${r(c.x1)},${r(c.y1)}`;
}

/** What a curve is traced onto: a canvas context or a Path2D. */
export interface PathSink {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  quadraticCurveTo(cx: number, cy: number, x: number, y: number): void;
  bezierCurveTo(c1x: number, c1y: number, c2x: number, c2y: number, x: number, y: number): void;
}

export function traceCurve(sink: PathSink, c: Curve): void {
  sink.moveTo(c.x0, c.y0);
  if (c.kind === 'line') sink.lineTo(c.x1, c.y1);
  else if (c.kind === 'quad') sink.quadraticCurveTo(c.cx, c.cy, c.x1, c.y1);
  else sink.bezierCurveTo(c.c1x, c.c1y, c.c2x, c.c2y, c.x1, c.y1);
}

/** The point at parameter t in [0, 1]. */
export function pointAt(c: Curve, t: number): Point {
  const u = 1 - t;
  if (c.kind === 'line') return { x: u * c.x0 + t * c.x1, y: u * c.y0 + t * c.y1 };
  if (c.kind === 'quad') {
    return { x: u * u * c.x0 + 2 * u * t * c.cx + t * t * c.x1, y: u * u * c.y0 + 2 * u * t * c.cy + t * t * c.y1 };
  }
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return { x: a * c.x0 + b * c.c1x + d * c.c2x + e * c.x1, y: a * c.y0 + b * c.c1y + d * c.c2y + e * c.y1 };
}

/**
 * Segments a curve is measured by: a line is one; a curve one per 25 units of its control polygon (4 to 96), which
 * keeps the polyline within a quarter unit of the curve for this graph's S-curves, up to the widest layouts.
 */
export function segmentsFor(c: Curve): number {
  if (c.kind === 'line') return 1;
  const len = c.kind === 'quad'
    ? Math.hypot(c.cx - c.x0, c.cy - c.y0) + Math.hypot(c.x1 - c.cx, c.y1 - c.cy)
    : Math.hypot(c.c1x - c.x0, c.c1y - c.y0) + Math.hypot(c.c2x - c.c1x, c.c2y - c.c1y) + Math.hypot(c.x1 - c.c2x, c.y1 - c.c2y);
  return Math.max(4, Math.min(96, Math.ceil(len / 25)));
}

/** The polyline through `segmentsFor(c) + 1` points of the curve, x and y interleaved. */
export function flatten(c: Curve): Float64Array {
  const n = segmentsFor(c);
  const out = new Float64Array(2 * (n + 1));
  for (let i = 0; i <= n; i++) {
    const p = pointAt(c, i / n);
    out[2 * i] = p.x;
    out[2 * i + 1] = p.y;
  }
  return out;
}

/** Distance from (px, py) to the segment (ax, ay)-(bx, by). */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** A similarity from graph units to screen pixels: screen = (x + k * gx, y + k * gy). */
export interface ViewTransform { x: number; y: number; k: number }

/**
 * Where an SVG with viewBox `0 0 width height` (preserveAspectRatio's default, xMidYMid meet) puts its user space in
 * a box of boxW x boxH pixels.
 */
export function viewBoxFit(width: number, height: number, boxW: number, boxH: number): ViewTransform {
  const k = Math.min(boxW / width, boxH / height);
  return { x: (boxW - width * k) / 2, y: (boxH - height * k) / 2, k };
}

/** The fit applied after a zoom transform (d3's {x, y, k}, in user space): graph units to box pixels. */
export function compose(fit: ViewTransform, zoom: ViewTransform): ViewTransform {
  return { x: fit.x + fit.k * zoom.x, y: fit.y + fit.k * zoom.y, k: fit.k * zoom.k };
}

/** Box pixels back to graph units. */
export function invert(t: ViewTransform, sx: number, sy: number): Point {
  return { x: (sx - t.x) / t.k, y: (sy - t.y) / t.k };
}
