import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, curveToSvg, edgeCurve, flatten, invert, NODE_R, pointAt, segmentDistance, viewBoxFit, type Curve } from './edgeGeometry';
import { EdgeHitIndex } from './edgeHitIndex';
import { drawOrder, edgeAlpha, styleBatches } from './edgeStyle';
import type { GEdge } from './layout';

/** The hit test's answer by brute force: every segment of every curve (end points as float32, as the index keeps
 *  them), same distance and tie rule, no grid. */
function bruteNearest(curves: Curve[], half: number[], x: number, y: number, tol: number): number {
  let best = -1;
  let bestD = Infinity;
  curves.forEach((c, e) => {
    const p = Float32Array.from(flatten(c));
    for (let i = 0; i + 3 < p.length; i += 2) {
      const d = Math.max(0, segmentDistance(x, y, p[i]!, p[i + 1]!, p[i + 2]!, p[i + 3]!) - half[e]!);
      if (d > tol) continue;
      if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && e > best)) { best = e; bestD = d; }
    }
  });
  return best;
}

const pt = fc.record({ x: fc.integer({ min: 0, max: 1800 }), y: fc.integer({ min: 0, max: 1200 }) });
const kind = fc.constantFrom<'weight' | 'residual' | 'qk'>('weight', 'weight', 'weight', 'residual', 'qk');

describe('edge geometry', () => {
  it('starts and ends a weight edge at the rims of its nodes, through the midpoint between them', () => {
    const c = edgeCurve('weight', { x: 100, y: 300 }, { x: 400, y: 200 });
    expect(pointAt(c, 0)).toEqual({ x: 100, y: 300 - NODE_R });
    expect(pointAt(c, 1)).toEqual({ x: 400, y: 200 + NODE_R });
    expect(pointAt(c, 0.5)).toEqual({ x: 250, y: 250 });
    expect(curveToSvg(c)).toBe('M100,292C100,250 400,250 400,208');
    expect(edgeCurve('weight', { x: 5, y: 90 }, { x: 5, y: 10 }).kind).toBe('line');
    expect(edgeCurve('qk', { x: 5, y: 90 }, { x: 30, y: 50 }).kind).toBe('quad');
  });

  it('flattens a curve to within a quarter unit of the true curve', () => {
    const c = edgeCurve('weight', { x: 0, y: 1000 }, { x: 1800, y: 900 });
    const poly = flatten(c);
    let worst = 0;
    for (let i = 0; i <= 1000; i++) {
      const p = pointAt(c, i / 1000);
      let d = Infinity;
      for (let j = 0; j + 3 < poly.length; j += 2) d = Math.min(d, segmentDistance(p.x, p.y, poly[j]!, poly[j + 1]!, poly[j + 2]!, poly[j + 3]!));
      worst = Math.max(worst, d);
    }
    expect(worst).toBeLessThan(0.25);
  });

  it('measures distance to a segment, clamped at its ends', () => {
    expect(segmentDistance(5, 3, 0, 0, 10, 0)).toBe(3);
    expect(segmentDistance(-4, 3, 0, 0, 10, 0)).toBe(5);
    expect(segmentDistance(1, 1, 2, 2, 2, 2)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('maps graph units to screen pixels as the SVG viewBox and the zoom do, and back', () => {
    const fit = viewBoxFit(1000, 500, 400, 400);
    expect(fit).toEqual({ x: 0, y: 100, k: 0.4 });
    fc.assert(fc.property(pt, fc.double({ min: 0.25, max: 20, noNaN: true }), fc.integer({ min: -500, max: 500 }), (p, k, tx) => {
      const t = compose(fit, { x: tx, y: -tx / 2, k });
      const screen = { x: t.x + t.k * p.x, y: t.y + t.k * p.y };
      // The same point through the SVG's two transforms: zoom in user space, then the viewBox fit.
      expect(screen.x).toBeCloseTo(fit.x + fit.k * (tx + k * p.x), 6);
      const back = invert(t, screen.x, screen.y);
      expect(back.x).toBeCloseTo(p.x, 6);
      expect(back.y).toBeCloseTo(p.y, 6);
    }));
  });
});

describe('edge hit index', () => {
  it('answers as a brute-force scan of every segment does, for random edges and points', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ s: pt, t: pt, kind, half: fc.double({ min: 0.3, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 60 }),
      fc.array(pt, { minLength: 1, maxLength: 30 }),
      fc.double({ min: 0.5, max: 40, noNaN: true }),
      (edges, points, tol) => {
        const curves = edges.map((e) => edgeCurve(e.kind, e.s, e.t));
        const half = edges.map((e) => e.half);
        const index = new EdgeHitIndex(curves, half, 37);
        for (const p of points) expect(index.nearest(p.x, p.y, tol)).toBe(bruteNearest(curves, half, p.x, p.y, tol));
      },
    ), { numRuns: 200 });
  });

  it('finds an edge at its midpoint, gives a shared point to the edge drawn last, and nothing out of reach', () => {
    const a = edgeCurve('weight', { x: 0, y: 100 }, { x: 200, y: 0 });
    const b = edgeCurve('weight', { x: 200, y: 100 }, { x: 0, y: 0 }); // crosses a at (100, 50)
    const c = edgeCurve('weight', { x: 400, y: 100 }, { x: 600, y: 0 });
    const index = new EdgeHitIndex([a, b, c], [1, 1, 1]);
    expect(index.nearest(500, 50, 2)).toBe(2);
    expect(index.nearest(100, 50, 2)).toBe(1);
    expect(new EdgeHitIndex([b, a, c], [1, 1, 1]).nearest(100, 50, 2)).toBe(1);
    expect(index.nearest(300, 50, 5)).toBe(-1);
    expect(index.nearest(-50, -50, 5)).toBe(-1);
    expect(new EdgeHitIndex([], []).nearest(0, 0, 5)).toBe(-1);
  });
});

describe('edge styles', () => {
  const e = (id: string, weight: number, k: GEdge['kind'] = 'weight'): GEdge => ({ id, source: id, target: id, weight, kind: k, ablatable: k === 'weight' });
  const edges = [e('a', 0.5), e('b', -2), e('r', 1, 'residual'), e('c', 0.01), e('q', 1, 'qk')];

  it('draws paths first, then weights from weakest to strongest', () => {
    expect(drawOrder(edges).map((x) => x.id)).toEqual(['q', 'r', 'c', 'a', 'b']);
  });

  it('puts every edge in exactly one batch, batches in draw order', () => {
    const ordered = drawOrder(edges);
    const batches = styleBatches(ordered, 2, '#888');
    expect(batches.flatMap((b) => b.edges).sort()).toEqual([0, 1, 2, 3, 4]);
    const firsts = batches.map((b) => b.edges[0]!);
    expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
    expect(batches.at(-1)!.style.width).toBeCloseTo(3.6, 9);
  });

  it('fades a crowded edge set but never below 0.12, and keeps a small one at 0.85', () => {
    expect(edgeAlpha(140, 1)).toBe(0.85);
    expect(edgeAlpha(66934, 1)).toBeCloseTo(0.85 * Math.sqrt(2000 / 66934), 9);
    expect(edgeAlpha(66934, 0.25)).toBe(0.12);
    expect(edgeAlpha(66934, 8)).toBe(0.85);
  });
});
