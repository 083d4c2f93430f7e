import { curveToSvg, edgeCurve, invert, traceCurve, type Curve, type ViewTransform } from './edgeGeometry';
import { EdgeHitIndex } from './edgeHitIndex';
import { drawOrder, edgeAlpha, edgeStyle, styleBatches, type EdgeBatch } from './edgeStyle';
import type { GEdge, GraphLayout } from './layout';

/** Hit tolerance around a stroke, in screen pixels. */
const HIT_PX = 5;
/** Quiet time after the last zoom or pan step before a large edge set is drawn again in full (ms). */
export const SETTLE_MS = 120;
/** From this many edges on, frames during a zoom or pan show the last full drawing moved and scaled (one image copy)
 *  and the full drawing follows when the view stops moving: rasterising ~67,000 curves takes far longer than a frame
 *  on a CPU-rendered canvas. */
const PREVIEW_FROM = 5000;

/**
 * The graph's edges on a <canvas> under the SVG nodes: tens of thousands of edges cost a few dozen stroke calls of
 * prebuilt Path2D batches instead of one DOM element each. Redraws are coalesced into one per animation frame and
 * drawn at the device's pixel ratio; while a large edge set is zoomed or panned, frames move a copy of the last full
 * drawing and the full drawing follows SETTLE_MS after the last step (every edge is always in it). What the pointer
 * is over is answered by an EdgeHitIndex built on the first question (none is needed to draw).
 */
export class EdgeCanvas {
  private ordered: GEdge[] = [];
  private curves: Curve[] = [];
  private batches: { batch: EdgeBatch; path: Path2D }[] = [];
  private byId = new Map<string, number>();
  private maxW = 1;
  private muted = '#626775';
  private index: EdgeHitIndex | null = null;
  private view: ViewTransform = { x: 0, y: 0, k: 1 };
  private cssW = 0;
  private cssH = 0;
  private frame = 0;
  /** Edges drawn over the dimmed rest while a node or edge is hovered; null: nothing hovered. */
  private emphasis: Set<string> | null = null;
  /** Duration of the last redraw's drawing calls (ms), for the benchmark. */
  lastDrawMs = 0;
  /** The last full drawing and the view it was drawn for (the zoom preview moves it). */
  private snapshot: HTMLCanvasElement | null = null;
  private snapView: ViewTransform | null = null;
  private settle: ReturnType<typeof setTimeout> | null = null;
  private fullDraws = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** The edges to draw (already filtered by the threshold) and the colour of residual paths. */
  setEdges(g: GraphLayout, edges: readonly GEdge[], muted: string): void {
    this.ordered = drawOrder(edges);
    this.curves = this.ordered.map((e) => edgeCurve(e.kind, g.byId.get(e.source)!, g.byId.get(e.target)!));
    this.byId = new Map(this.ordered.map((e, i) => [e.id, i]));
    // The width scale is the whole circuit's, so a threshold does not make the remaining edges fatter.
    let maxW = 0;
    for (const e of g.edges) if (e.kind === 'weight') maxW = Math.max(maxW, Math.abs(e.weight));
    this.maxW = maxW || 1;
    this.muted = muted;
    this.batches = styleBatches(this.ordered, this.maxW, muted).map((batch) => {
      const path = new Path2D();
      for (const i of batch.edges) traceCurve(path, this.curves[i]!);
      return { batch, path };
    });
    this.index = null;
    this.snapView = null;
    this.canvas.dataset.edgesDrawn = String(this.ordered.length);
    this.requestDraw();
  }

  /** Graph units to canvas CSS pixels, and the canvas's CSS size. */
  setView(view: ViewTransform, cssW: number, cssH: number): void {
    this.view = view;
    const resized = cssW !== this.cssW || cssH !== this.cssH;
    if (resized) this.snapView = null;
    if (resized) {
      this.cssW = cssW;
      this.cssH = cssH;
      const dpr = window.devicePixelRatio || 1;
      this.canvas.width = Math.max(1, Math.round(cssW * dpr));
      this.canvas.height = Math.max(1, Math.round(cssH * dpr));
      this.canvas.style.width = `${cssW}px`;
      this.canvas.style.height = `${cssH}px`;
    }
    if (this.snapView && this.ordered.length >= PREVIEW_FROM) {
      this.requestDraw('preview');
      if (this.settle) clearTimeout(this.settle);
      this.settle = setTimeout(() => { this.settle = null; this.requestDraw(); }, SETTLE_MS);
    } else this.requestDraw();
  }

  setEmphasis(ids: Set<string> | null): void {
    this.emphasis = ids;
    this.requestDraw();
  }

  private pendingFull = false;

  /** A redraw in the next animation frame: in full, or (during a zoom) the last full drawing moved to the new view. */
  requestDraw(kind: 'full' | 'preview' = 'full'): void {
    if (kind === 'full') this.pendingFull = true;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const full = this.pendingFull || !this.snapView;
      this.pendingFull = false;
      if (full) this.draw();
      else this.drawPreview();
    });
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.settle) clearTimeout(this.settle);
    this.frame = 0;
    this.settle = null;
  }

  /** The last full drawing, scaled and moved from the view it was drawn for to the current one. */
  private drawPreview(): void {
    const ctx = this.canvas.getContext('2d');
    const from = this.snapView;
    if (!ctx || !from || !this.snapshot) return this.draw();
    const t0 = performance.now();
    const dpr = this.canvas.width / Math.max(1, this.cssW);
    const r = this.view.k / from.k;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(r, 0, 0, r, dpr * (this.view.x - r * from.x), dpr * (this.view.y - r * from.y));
    ctx.drawImage(this.snapshot, 0, 0);
    this.lastDrawMs = performance.now() - t0;
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(2);
    this.canvas.dataset.quality = 'preview';
  }

  private draw(): void {
    const t0 = performance.now();
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = this.canvas.width / Math.max(1, this.cssW);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const { x, y, k } = this.view;
    ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * x, dpr * y);
    ctx.lineCap = 'round';
    const alpha = edgeAlpha(this.ordered.length, k);
    // While something is hovered the rest fades to a trace and its neighbourhood is drawn on top at full strength.
    // A large set fades its last full drawing of this same view (one image copy) rather than drawing every edge again.
    const sv = this.snapView;
    const sameView = !!sv && sv.x === x && sv.y === y && sv.k === k && !!this.snapshot;
    if (this.emphasis && sameView) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalAlpha = Math.min(1, 0.08 / alpha);
      ctx.drawImage(this.snapshot!, 0, 0);
      ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * x, dpr * y);
    } else {
      ctx.globalAlpha = this.emphasis ? Math.min(alpha, 0.08) : alpha;
      for (const { batch, path } of this.batches) {
        ctx.strokeStyle = batch.style.color;
        // A stroke never thinner than ~0.6 screen pixels, or a zoomed-out graph would vanish.
        ctx.lineWidth = Math.max(batch.style.width, 0.6 / k);
        ctx.setLineDash(batch.style.dash);
        ctx.stroke(path);
      }
    }
    if (this.emphasis) {
      ctx.globalAlpha = 1;
      for (const id of this.emphasis) {
        const i = this.byId.get(id);
        if (i === undefined) continue;
        const s = edgeStyle(this.ordered[i]!, this.maxW, this.muted);
        ctx.strokeStyle = s.color;
        ctx.lineWidth = Math.max(s.width, 3);
        ctx.setLineDash(s.dash);
        ctx.beginPath();
        traceCurve(ctx, this.curves[i]!);
        ctx.stroke();
      }
    }
    ctx.setLineDash([]);
    if (this.ordered.length >= PREVIEW_FROM && !this.emphasis) {
      // Kept for the zoom preview and the hover fade: one copy of the canvas per full drawing.
      const snap = (this.snapshot ??= document.createElement('canvas'));
      if (snap.width !== this.canvas.width || snap.height !== this.canvas.height) {
        snap.width = this.canvas.width;
        snap.height = this.canvas.height;
      }
      const sctx = snap.getContext('2d')!;
      sctx.clearRect(0, 0, snap.width, snap.height);
      sctx.drawImage(this.canvas, 0, 0);
      this.snapView = { ...this.view };
    }
    this.lastDrawMs = performance.now() - t0;
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(2);
    this.canvas.dataset.quality = 'full';
    this.canvas.dataset.fullDraws = String(++this.fullDraws);
  }

  /** The edge under a point given in canvas CSS pixels, or null. */
  edgeAt(px: number, py: number): GEdge | null {
    if (!this.index) {
      const half = Float64Array.from(this.ordered, (e) => edgeStyle(e, this.maxW, this.muted).width / 2);
      this.index = new EdgeHitIndex(this.curves, half);
    }
    const p = invert(this.view, px, py);
    const i = this.index.nearest(p.x, p.y, HIT_PX / this.view.k);
    return i < 0 ? null : this.ordered[i]!;
  }

  /** The curve of a drawn edge (for the SVG marks of ablated and keyboard-selected edges). */
  curveOf(id: string): Curve | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.curves[i];
  }

  get drawnCount(): number {
    return this.ordered.length;
  }

  /**
   * Every drawn edge as SVG <path> elements, one per style batch, for an exported image: the same curves, colours and
   * widths as on the canvas (at the canvas's opacity for the whole graph).
   */
  toSvgGroup(doc: Document): SVGGElement {
    const ns = 'http://www.w3.org/2000/svg';
    const g = doc.createElementNS(ns, 'g');
    g.setAttribute('class', 'edges');
    g.setAttribute('opacity', String(edgeAlpha(this.ordered.length, 1)));
    g.setAttribute('fill', 'none');
    g.setAttribute('stroke-linecap', 'round');
    for (const { batch } of this.batches) {
      const p = doc.createElementNS(ns, 'path');
      p.setAttribute('d', batch.edges.map((i) => curveToSvg(this.curves[i]!)).join(''));
      p.setAttribute('stroke', batch.style.color);
      p.setAttribute('stroke-width', String(batch.style.width));
      if (batch.style.dash.length) p.setAttribute('stroke-dasharray', batch.style.dash.join(' '));
      g.appendChild(p);
    }
    return g;
  }
}
