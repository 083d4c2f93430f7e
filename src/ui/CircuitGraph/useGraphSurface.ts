import * as d3 from 'd3';
import { useEffect, useRef, type RefObject } from 'react';
import { drawGraph, readPalette, type DrawHandlers } from './draw';
import { EdgeCanvas } from './edgeCanvas';
import { compose, viewBoxFit } from './edgeGeometry';
import type { GEdge, GNode, GraphLayout } from './layout';

export interface SurfaceHandlers extends DrawHandlers {
  edgeClick: (e: GEdge, ev: MouseEvent) => void;
}

export interface GraphSurface {
  svgRef: RefObject<SVGSVGElement | null>;
  canvasRef: RefObject<HTMLCanvasElement | null>;
  tipRef: RefObject<HTMLDivElement | null>;
  /** The canvas renderer of the current layout (null before the first draw). */
  edges: RefObject<EdgeCanvas | null>;
  /** Centres a node at twice the fitted scale (animated). */
  zoomTo: (n: GNode) => void;
  /** Back to the whole graph. */
  fit: () => void;
}

/** Words for an edge's tooltip (the hover text of the canvas, which has no elements to carry a <title>). */
export function edgeTip(e: GEdge): string {
  const what = e.kind === 'residual' ? 'residual stream (identity)' : e.kind === 'qk' ? 'q·k pair in one head' : `weight ${e.weight.toFixed(4)}`;
  return `${e.source} → ${e.target}\n${what}${e.ablatable ? '\nclick: ablate this edge' : ''}`;
}

/**
 * The drawing surface shared by the explorer's graph and the compare view's: d3 draws the nodes in the SVG once per
 * layout, the edges (those at or above `threshold`) go on the canvas underneath, and one d3 zoom moves both (the SVG by
 * its transform, the canvas by a redraw in the next animation frame). The pointer is hit-tested against the canvas's
 * edges on move (tooltip, hover) and click. Handlers are read through a ref, so new handlers never redraw.
 */
export function useGraphSurface(layout: GraphLayout | null, threshold: number, themeVersion: number, handlers: SurfaceHandlers): GraphSurface {
  const svgRef = useRef<SVGSVGElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const tipRef = useRef<HTMLDivElement>(null);
  const edges = useRef<EdgeCanvas | null>(null);
  const zoomRef = useRef<d3.ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const h = useRef(handlers);
  h.current = handlers;

  // Nodes, zoom and pointer: once per layout (and theme, whose colours are written as attributes).
  useEffect(() => {
    const svg = svgRef.current;
    const canvas = canvasRef.current;
    if (!layout || !svg || !canvas) return;
    const renderer = new EdgeCanvas(canvas);
    edges.current = renderer;
    drawGraph(svg, layout, readPalette(svg), {
      nodeClick: (n, ev) => h.current.nodeClick(n, ev),
      hover: (node, edge) => h.current.hover(node, edge),
      labelOf: (id) => h.current.labelOf?.(id),
    });
    const place = () => {
      const t = d3.zoomTransform(svg);
      const fit = viewBoxFit(layout.width, layout.height, svg.clientWidth || 1, svg.clientHeight || 1);
      renderer.setView(compose(fit, t), svg.clientWidth, svg.clientHeight);
    };
    const zoom = d3.zoom<SVGSVGElement, unknown>().scaleExtent([0.25, 20])
      .on('zoom', (ev: d3.D3ZoomEvent<SVGSVGElement, unknown>) => {
        d3.select(svg).select('.zoom-layer').attr('transform', ev.transform.toString());
        place();
      });
    d3.select(svg).call(zoom).on('dblclick.zoom', null);
    zoomRef.current = zoom;
    const resize = new ResizeObserver(place);
    resize.observe(svg);
    place();

    // Edge under the pointer: answered once per animation frame at most.
    let hovered: GEdge | null = null;
    let pending: PointerEvent | null = null;
    const tip = tipRef.current;
    const edgeAtEvent = (ev: MouseEvent) => {
      if ((ev.target as Element).closest('g.node')) return null;
      const r = svg.getBoundingClientRect();
      return renderer.edgeAt(ev.clientX - r.left, ev.clientY - r.top);
    };
    const showTip = (e: GEdge | null, ev: MouseEvent | null) => {
      svg.style.cursor = e ? (e.ablatable ? 'pointer' : 'help') : '';
      if (!tip) return;
      tip.hidden = !e;
      if (!e || !ev) return;
      const r = svg.getBoundingClientRect();
      tip.textContent = edgeTip(e);
      tip.dataset.edge = e.id;
      tip.dataset.ablatable = String(e.ablatable);
      tip.style.left = `${ev.clientX - r.left + 14}px`;
      tip.style.top = `${ev.clientY - r.top + 14}px`;
    };
    const onMove = (ev: PointerEvent) => {
      if (pending) { pending = ev; return; }
      pending = ev;
      requestAnimationFrame(() => {
        const last = pending!;
        pending = null;
        const e = edgeAtEvent(last);
        showTip(e, last);
        if (e?.id !== hovered?.id) {
          hovered = e;
          if (e || !(last.target as Element).closest('g.node')) h.current.hover(null, e?.id ?? null);
        }
      });
    };
    const onLeave = () => {
      pending = null;
      if (hovered) h.current.hover(null, null);
      hovered = null;
      showTip(null, null);
    };
    const onClick = (ev: MouseEvent) => {
      const e = edgeAtEvent(ev);
      if (e) h.current.edgeClick(e, ev);
    };
    svg.addEventListener('pointermove', onMove);
    svg.addEventListener('pointerleave', onLeave);
    svg.addEventListener('click', onClick);
    return () => {
      resize.disconnect();
      renderer.dispose();
      svg.removeEventListener('pointermove', onMove);
      svg.removeEventListener('pointerleave', onLeave);
      svg.removeEventListener('click', onClick);
      d3.select(svg).on('.zoom', null);
      if (edges.current === renderer) edges.current = null;
    };
  }, [layout, themeVersion]);

  // The edges: again when the threshold moves (which hides weak ones) or the theme changes residual paths' colour.
  useEffect(() => {
    const svg = svgRef.current;
    if (!layout || !svg || !edges.current) return;
    const shown = threshold > 0 ? layout.edges.filter((e) => e.kind !== 'weight' || Math.abs(e.weight) >= threshold) : layout.edges;
    edges.current.setEdges(layout, shown, readPalette(svg).muted);
  }, [layout, threshold, themeVersion]);

  const zoomTo = (n: GNode) => {
    const svg = svgRef.current;
    if (!svg || !zoomRef.current || !layout) return;
    d3.select(svg).transition().duration(300)
      .call(zoomRef.current.transform, d3.zoomIdentity.translate(layout.width / 2, layout.height / 2).scale(2).translate(-n.x, -n.y));
  };
  const fit = () => {
    if (svgRef.current && zoomRef.current) d3.select(svgRef.current).call(zoomRef.current.transform, d3.zoomIdentity);
  };
  return { svgRef, canvasRef, tipRef, edges, zoomTo, fit };
}
