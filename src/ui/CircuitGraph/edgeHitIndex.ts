import { flatten, segmentDistance, type Curve } from './edgeGeometry';

/**
 * Which edge is under the pointer, among tens of thousands drawn on a canvas (which knows nothing about what it drew).
 * Every curve is cut into straight segments (edgeGeometry.flatten, end points kept as float32: a million segments of a
 * dense circuit in 16 MB) and each segment is filed in the cells of a uniform grid that its bounding box touches, so a
 * query looks only at the segments near the pointer. Pure (no DOM).
 *
 * The answer is the edge whose stroke comes nearest: distance to the centre line minus half the stroke width (0 when
 * the point is on the stroke), within `tolerance`. Ties, e.g. a point on several strokes, go to the edge drawn last,
 * which is the one on top on screen (edges are given in draw order).
 */
export class EdgeHitIndex {
  private readonly cell: number;
  private readonly x0: number;
  private readonly y0: number;
  private readonly cols: number;
  private readonly rows: number;
  /** Segment i: its edge and its end points. */
  private readonly segEdge: Int32Array;
  private readonly seg: Float32Array;
  /** Cell c's segments are cellSegs[cellStart[c] .. cellStart[c + 1]). */
  private readonly cellStart: Int32Array;
  private readonly cellSegs: Int32Array;
  private readonly maxHalf: number;

  constructor(curves: readonly Curve[], private readonly halfWidths: ArrayLike<number>, cellSize = 40) {
    const polys = curves.map(flatten);
    let nSeg = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const p of polys) {
      nSeg += p.length / 2 - 1;
      for (let i = 0; i < p.length; i += 2) {
        minX = Math.min(minX, p[i]!);
        maxX = Math.max(maxX, p[i]!);
        minY = Math.min(minY, p[i + 1]!);
        maxY = Math.max(maxY, p[i + 1]!);
      }
    }
    if (!polys.length) minX = minY = maxX = maxY = 0;
    this.cell = cellSize;
    this.x0 = minX;
    this.y0 = minY;
    this.cols = Math.max(1, Math.floor((maxX - minX) / cellSize) + 1);
    this.rows = Math.max(1, Math.floor((maxY - minY) / cellSize) + 1);
    this.segEdge = new Int32Array(nSeg);
    this.seg = new Float32Array(4 * nSeg);
    let m = 0;
    for (let i = 0; i < halfWidths.length; i++) m = Math.max(m, halfWidths[i]!);
    this.maxHalf = m;
    let s = 0;
    polys.forEach((p, e) => {
      for (let i = 0; i + 3 < p.length; i += 2) {
        this.segEdge[s] = e;
        this.seg[4 * s] = p[i]!;
        this.seg[4 * s + 1] = p[i + 1]!;
        this.seg[4 * s + 2] = p[i + 2]!;
        this.seg[4 * s + 3] = p[i + 3]!;
        s++;
      }
    });
    // Two passes (count, then fill) so the grid is two flat arrays, not a million small ones.
    const counts = new Int32Array(this.cols * this.rows + 1);
    this.forEachCell((c) => { counts[c]!++; });
    this.cellStart = new Int32Array(counts.length);
    for (let c = 1; c < counts.length; c++) this.cellStart[c] = this.cellStart[c - 1]! + counts[c - 1]!;
    this.cellSegs = new Int32Array(this.cellStart[counts.length - 1]!);
    const fill = this.cellStart.slice();
    this.forEachCell((c, i) => { this.cellSegs[fill[c]!++] = i; });
  }

  /** Calls f(cell, segment) for every cell each segment's bounding box touches. */
  private forEachCell(f: (cell: number, seg: number) => void): void {
    const n = this.segEdge.length;
    for (let i = 0; i < n; i++) {
      const ax = this.seg[4 * i]!;
      const ay = this.seg[4 * i + 1]!;
      const bx = this.seg[4 * i + 2]!;
      const by = this.seg[4 * i + 3]!;
      const c0 = this.col(Math.min(ax, bx));
      const c1 = this.col(Math.max(ax, bx));
      const r0 = this.row(Math.min(ay, by));
      const r1 = this.row(Math.max(ay, by));
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) f(r * this.cols + c, i);
    }
  }

  private col(x: number): number {
    return Math.max(0, Math.min(this.cols - 1, Math.floor((x - this.x0) / this.cell)));
  }

  private row(y: number): number {
    return Math.max(0, Math.min(this.rows - 1, Math.floor((y - this.y0) / this.cell)));
  }

  /** The index (in draw order) of the edge nearest to (x, y) within `tolerance` graph units, or -1. */
  nearest(x: number, y: number, tolerance: number): number {
    const reach = tolerance + this.maxHalf;
    const c0 = this.col(x - reach);
    const c1 = this.col(x + reach);
    const r0 = this.row(y - reach);
    const r1 = this.row(y + reach);
    let best = -1;
    let bestD = Infinity;
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) {
      const cell = r * this.cols + c;
      for (let j = this.cellStart[cell]!; j < this.cellStart[cell + 1]!; j++) {
        const i = this.cellSegs[j]!;
        const e = this.segEdge[i]!;
        const o = 4 * i;
        const d = Math.max(0, segmentDistance(x, y, this.seg[o]!, this.seg[o + 1]!, this.seg[o + 2]!, this.seg[o + 3]!) - this.halfWidths[e]!);
        if (d > tolerance) continue;
        if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && e > best)) {
          best = e;
          bestD = d;
        }
      }
    }
    return best;
  }
}
