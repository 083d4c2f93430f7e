import * as d3 from 'd3';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useAppStore } from '../../state/appStore';
import { ablateEdge, ablateNode, selectNode } from '../../state/explorerActions';
import { hoverStore, useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { useThemeStore } from '../../state/themeStore';
import { ablationSets, useEffectivePos, useReferenceLabel, valuesAt, variantOf } from '../shared/liveSelectors';
import { drawGraph, highlight, markKeyboardEdge, readPalette, styleGraph } from './draw';
import { exportPng, exportSvg } from './exportImage';
import { GraphToolbar } from './GraphToolbar';
import { layoutCircuit, type GEdge, type GNode } from './layout';
import { cycleEdge, incidentEdges, neighbour, type Direction } from './navigation';
import './graph.css';

/** Most weight edges drawn when a circuit is opened (SVG cost); the threshold slider shows more. */
const MAX_DRAWN_EDGES = 4000;
const KEY_DIR: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };
const KEYS_HELP = 'arrow keys move between nodes, E and Shift+E step through the node\'s edges, G follows the edge, Enter toggles the ablation of the node or edge, Space inspects, Esc clears';

/** Why an edge cannot be ablated on its own (the click and the keyboard say the same). */
function notAblatable(e: GEdge): string {
  const what = e.kind === 'residual' ? 'a residual-stream path' : e.kind === 'qk' ? 'a q·k pairing, not a weight' : 'a weight the runtime cannot ablate alone';
  return `${e.source} → ${e.target} is ${what}; ablate one of its nodes instead`;
}

/**
 * The circuit as a layered graph. d3 owns the SVG (drawn once per circuit, restyled per engine answer); React owns
 * only the toolbar and the keyboard cursor. Click ablates (global mode), shift-click inspects.
 */
export function CircuitGraph() {
  const circuit = useLiveStore((s) => s.circuit);
  const model = useAppStore((s) => s.model);
  const layout = useMemo(() => (circuit && model ? layoutCircuit(circuit, model.dHead, model.nLayer) : null), [circuit, model]);
  const svgRef = useRef<SVGSVGElement>(null);
  const zoomRef = useRef<d3.ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const [active, setActive] = useState<string | null>(null);
  // The keyboard's edge cursor: one of the edges at the node cursor (E / Shift+E), toggled with Enter.
  const [activeEdge, setActiveEdge] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const themeVersion = useThemeStore((s) => s.version);
  const chosen = useExplorerStore((s) => s.edgeThreshold);
  // A circuit with thousands of weight edges would stall the page as SVG: by default only the strongest are drawn,
  // the rest hidden by the threshold (and counted as hidden in the toolbar).
  const auto = useMemo(() => {
    const w = layout?.weightMagnitudes;
    return w && w.length > MAX_DRAWN_EDGES ? w[w.length - MAX_DRAWN_EDGES]! : 0;
  }, [layout]);
  const threshold = chosen ?? auto;

  useEffect(() => {
    const svg = svgRef.current;
    if (!layout || !svg) return;
    const onEdge = (e: GEdge, ev: MouseEvent) => {
      if (ev.shiftKey) return selectNode(e.target);
      if (!e.ablatable) return setMessage(notAblatable(e));
      setMessage(null);
      ablateEdge(e.source, e.target);
    };
    const onNode = (n: GNode, ev: MouseEvent) => {
      setActive(n.id);
      setActiveEdge(null);
      if (ev.shiftKey || ev.altKey) selectNode(n.id);
      else ablateNode(n.id);
    };
    drawGraph(svg, layout, readPalette(svg), { nodeClick: onNode, edgeClick: onEdge, hover: (node, edge) => hoverStore.setState({ node, edge }) }, threshold);
    const zoom = d3.zoom<SVGSVGElement, unknown>().scaleExtent([0.25, 10])
      .on('zoom', (ev: d3.D3ZoomEvent<SVGSVGElement, unknown>) => d3.select(svg).select('.zoom-layer').attr('transform', ev.transform.toString()));
    d3.select(svg).call(zoom).on('dblclick.zoom', null);
    zoomRef.current = zoom;
    const unsub = hoverStore.subscribe((h) => highlight(svg, layout, h.node, h.edge));
    return () => {
      unsub();
      d3.select(svg).on('.zoom', null);
    };
  }, [layout, themeVersion, threshold]);

  const detailed = useLiveStore((s) => s.detailed);
  const pos = useEffectivePos();
  const refLabel = useReferenceLabel();
  const list = useExplorerStore((s) => s.iv.present);
  const selected = useExplorerStore((s) => s.node);
  useEffect(() => {
    const svg = svgRef.current;
    if (!layout || !svg) return;
    const sets = ablationSets(list);
    styleGraph(svg, {
      value: valuesAt(detailed, variantOf(detailed, 'current'), pos),
      baseline: valuesAt(detailed, variantOf(detailed, refLabel), pos),
      ablatedNodes: sets.nodes, ablatedEdges: sets.edges, selected, active, pal: readPalette(svg),
    });
  }, [layout, themeVersion, threshold, detailed, pos, refLabel, list, selected, active]);
  // A new circuit or a higher threshold can remove the edge under the cursor.
  const edge = activeEdge && layout ? layout.edges.find((e) => e.id === activeEdge && (e.kind !== 'weight' || Math.abs(e.weight) >= threshold)) : undefined;
  useEffect(() => {
    if (svgRef.current && layout) markKeyboardEdge(svgRef.current, edge?.id ?? null);
  }, [layout, threshold, themeVersion, edge]);

  const focusNode = (n: GNode) => {
    setActive(n.id);
    selectNode(n.id);
    const svg = svgRef.current;
    if (svg && zoomRef.current) d3.select(svg).transition().duration(300).call(zoomRef.current.transform, d3.zoomIdentity.translate(layout!.width / 2, layout!.height / 2).scale(2).translate(-n.x, -n.y));
  };
  const onKey = (e: KeyboardEvent) => {
    if (!layout) return;
    const cur = active ? layout.byId.get(active) : undefined;
    const dir = KEY_DIR[e.key];
    const key = e.key.toLowerCase();
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (dir) {
      const next = neighbour(layout.nodes, cur, dir);
      if (next) setActive(next.id);
      setActiveEdge(null);
      setMessage(null);
    } else if (key === 'e') {
      const at = cur ?? neighbour(layout.nodes, undefined, 'right');
      if (!at) return;
      setActive(at.id);
      const next = cycleEdge(incidentEdges(layout, at.id, threshold), edge?.id ?? null, e.shiftKey ? -1 : 1);
      setActiveEdge(next?.id ?? null);
      setMessage(next ? null : `${at.id} has no drawn edges`);
    } else if (key === 'g' && edge && cur) setActive(edge.source === cur.id ? edge.target : edge.source);
    else if (e.key === 'Enter' && edge) {
      setMessage(edge.ablatable ? null : notAblatable(edge));
      if (edge.ablatable) ablateEdge(edge.source, edge.target);
    } else if (e.key === 'Enter' && cur) ablateNode(cur.id);
    else if ((e.key === ' ' || key === 'i') && cur) selectNode(cur.id);
    else if (e.key === 'Escape') {
      if (edge) setActiveEdge(null);
      else setActive(null);
    } else return;
    e.preventDefault();
  };
  const edgeList = edge && active ? incidentEdges(layout!, active, threshold) : [];
  const ablatedEdge = edge ? ablationSets(list).edges.has(edge.id) : false;
  const cursorText = edge
    ? `edge ${edgeList.findIndex((x) => x.id === edge.id) + 1}/${edgeList.length} at ${active}: ${edge.source} → ${edge.target}, ` +
      `${edge.kind === 'weight' ? `weight ${edge.weight.toFixed(4)}` : edge.kind === 'qk' ? 'q·k pair' : 'residual path'}` +
      `${ablatedEdge ? ' (ablated)' : ''}${edge.ablatable ? ' · Enter toggles its ablation' : ''}`
    : active ? `cursor: ${active} · E: its edges` : null;
  const onExport = (kind: 'svg' | 'png') => {
    const svg = svgRef.current;
    if (!svg) return;
    const bg = readPalette(svg).panel;
    const name = `circuit-${circuit?.task ?? 'graph'}.${kind}`;
    if (kind === 'svg') exportSvg(svg, bg, name);
    else exportPng(svg, bg, name).catch((err: Error) => setMessage(err.message));
  };

  if (!circuit || !layout) {
    return <section className="panel graph-panel" aria-label="Circuit graph"><h2>Circuit</h2><p className="muted">no circuit for this task yet</p></section>;
  }
  return (
    <section className="panel graph-panel" aria-label="Circuit graph">
      <h2>Circuit · {circuit.task} · {circuit.nodes.length} nodes · {circuit.edges.length} edges</h2>
      <GraphToolbar layout={layout} threshold={threshold} totalNodes={circuit.nodes.length} onFind={focusNode}
        onFit={() => svgRef.current && zoomRef.current && d3.select(svgRef.current).call(zoomRef.current.transform, d3.zoomIdentity)} onExport={onExport} />
      <div className="graph-frame" tabIndex={0} role="group" onKeyDown={onKey}
        aria-label={`Circuit graph: ${KEYS_HELP}; shift-click inspects`} aria-keyshortcuts="E Shift+E G Enter Space Escape">
        <svg ref={svgRef} className="circuit-svg" data-testid="circuit-graph" />
      </div>
      <p className="muted graph-status" aria-live="polite">
        {message ?? cursorText ?? 'click a node or weight edge to ablate it · shift-click to inspect · colour = activation at the selected token'}
      </p>
    </section>
  );
}
