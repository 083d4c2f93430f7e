import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useAppStore } from '../../state/appStore';
import { ablateEdge, ablateNode, selectNode } from '../../state/explorerActions';
import { hoverStore, useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { useThemeStore } from '../../state/themeStore';
import { circuitNodeIds } from '../../state/variants';
import { CompareSelect } from '../Compare/CompareSelect';
import { FullModelWarning } from '../shared/FullModelWarning';
import { ablationSets, useEffectivePos, useReferenceLabel, valuesAt, variantOf } from '../shared/liveSelectors';
import { useNodeLabels } from '../shared/useNodeLabels';
import { drawEdgeMarks, highlight, readPalette, styleGraph } from './draw';
import { exportPng, exportSvg } from './exportImage';
import { GraphToolbar } from './GraphToolbar';
import { restrictCircuit } from '../Importance/coreCircuit';
import { layoutCircuit, type GEdge, type GNode } from './layout';
import { cycleEdge, incidentEdges, neighbour, type Direction } from './navigation';
import { markSearchHits } from './searchHits';
import { useGraphSurface } from './useGraphSurface';
import './graph.css';

const KEY_DIR: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };
const KEYS_HELP = 'arrow keys move between nodes, E and Shift+E step through the node\'s edges, G follows the edge, Enter toggles the ablation of the node or edge, Space inspects, Esc clears';

/** Why an edge cannot be ablated on its own (the click and the keyboard say the same). */
function notAblatable(e: GEdge): string {
  return `${e.source} → ${e.target} is no ${e.kind === 'qk' ? 'q·k' : e.kind} edge of the registry (docs/circuits.md, "What counts as an edge"); ablate one of its nodes instead`;
}

/**
 * The circuit as a layered graph. d3 owns the SVG nodes (drawn once per circuit, restyled per engine answer) and a
 * canvas underneath holds every edge (useGraphSurface); React owns only the toolbar and the keyboard cursor. Click
 * ablates (global mode), shift-click inspects.
 */
export function CircuitGraph({ visibleNodes = null }: { visibleNodes?: ReadonlySet<string> | null }) {
  const whole = useLiveStore((s) => s.circuit);
  // The core view (Importance panel) draws only the given nodes and the edges among them.
  const circuit = useMemo(() => restrictCircuit(whole, visibleNodes), [whole, visibleNodes]);
  const model = useAppStore((s) => s.model);
  const layout = useMemo(() => (circuit && model ? layoutCircuit(circuit, model.dHead, model.nLayer) : null), [circuit, model]);
  const [active, setActive] = useState<string | null>(null);
  // The keyboard's edge cursor: one of the edges at the node cursor (E / Shift+E), toggled with Enter.
  const [activeEdge, setActiveEdge] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const themeVersion = useThemeStore((s) => s.version);
  const chosen = useExplorerStore((s) => s.edgeThreshold);
  // Every edge is drawn (on a canvas) unless the user raises the threshold.
  const threshold = chosen ?? 0;
  // Node labels for the hover text and the search; read through a ref so their arrival does not redraw the graph.
  const nodeIds = useMemo(() => (circuit ? circuitNodeIds(circuit) : null), [circuit]);
  const labels = useNodeLabels(nodeIds);
  const labelsRef = useRef(labels);
  labelsRef.current = labels;
  const [searchHits, setSearchHits] = useState<ReadonlySet<string>>(() => new Set());

  const surface = useGraphSurface(layout, threshold, themeVersion, {
    edgeClick: (e, ev) => {
      if (ev.shiftKey) return selectNode(e.target);
      if (!e.ablatable) return setMessage(notAblatable(e));
      setMessage(null);
      ablateEdge(e.source, e.target);
    },
    nodeClick: (n, ev) => {
      setActive(n.id);
      setActiveEdge(null);
      if (ev.shiftKey || ev.altKey) selectNode(n.id);
      else ablateNode(n.id);
    },
    hover: (node, edge) => hoverStore.setState({ node, edge }),
    labelOf: (id) => labelsRef.current?.get(id)?.text,
  });
  const svgRef = surface.svgRef;
  // Hover: the neighbourhood's nodes by class, its edges on top of the canvas.
  useEffect(() => {
    const svg = svgRef.current;
    if (!layout || !svg) return;
    return hoverStore.subscribe((h) => surface.edges.current?.setEmphasis(highlight(svg, layout, h.node, h.edge)));
  }, [layout, themeVersion, svgRef, surface.edges]);

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
      ablatedNodes: sets.nodes, selected, active, pal: readPalette(svg),
    });
  }, [layout, themeVersion, threshold, detailed, pos, refLabel, list, selected, active]);
  useEffect(() => setSearchHits(new Set()), [layout]); // another circuit: the last search's marks are gone
  // A redraw rebuilds the nodes: the search's marks go back on.
  useEffect(() => {
    if (svgRef.current && layout) markSearchHits(svgRef.current, searchHits);
  }, [layout, threshold, themeVersion, searchHits]);
  // A new circuit or a higher threshold can remove the edge under the cursor.
  const edge = activeEdge && layout ? layout.edges.find((e) => e.id === activeEdge && (e.kind !== 'weight' || Math.abs(e.weight) >= threshold)) : undefined;
  // Ablated edges and the keyboard's edge as SVG marks over the canvas.
  useEffect(() => {
    const svg = svgRef.current;
    const drawn = surface.edges.current;
    if (!svg || !layout || !drawn) return;
    const ablated = ablationSets(list).edges;
    const marks: { edge: GEdge; kind: 'ablated' | 'kbd'; ablated: boolean }[] = layout.edges.filter((e) => ablated.has(e.id)).map((e) => ({ edge: e, kind: 'ablated', ablated: true }));
    if (edge) marks.push({ edge, kind: 'kbd', ablated: ablated.has(edge.id) });
    drawEdgeMarks(svg, readPalette(svg), marks, (id) => drawn.curveOf(id));
  }, [layout, threshold, themeVersion, edge, list, svgRef, surface.edges]);

  const focusNode = (n: GNode) => {
    setActive(n.id);
    selectNode(n.id);
    surface.zoomTo(n);
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
    const drawn = surface.edges.current;
    if (!svg || !drawn) return;
    const bg = readPalette(svg).panel;
    const name = `circuit-${circuit?.task ?? 'graph'}.${kind}`;
    // The canvas's edges go into the image as SVG paths, under the marks and the nodes.
    const withEdges = (clone: SVGSVGElement) => {
      const marks = clone.querySelector('.edge-marks');
      marks?.parentNode?.insertBefore(drawn.toSvgGroup(document), marks);
    };
    if (kind === 'svg') exportSvg(svg, bg, name, withEdges);
    else exportPng(svg, bg, name, withEdges).catch((err: Error) => setMessage(err.message));
  };

  if (!circuit || !layout) {
    return <section className="panel graph-panel" aria-label="Circuit graph"><h2>Circuit</h2><p className="muted">no circuit for this task yet</p></section>;
  }
  return (
    <section className="panel graph-panel" aria-label="Circuit graph">
      <h2>Circuit · {circuit.task} · {circuit.nodes.length} nodes · {circuit.edges.length} edges</h2>
      <FullModelWarning where="graph" />
      <CompareSelect />
      <GraphToolbar layout={layout} threshold={threshold} totalNodes={circuit.nodes.length} onFind={focusNode} labels={labels} onHits={setSearchHits}
        onFit={surface.fit} onExport={onExport} />
      <div className="graph-frame" tabIndex={0} role="group" onKeyDown={onKey}
        aria-label={`Circuit graph: ${KEYS_HELP}; shift-click inspects`} aria-keyshortcuts="E Shift+E G Enter Space Escape">
        <canvas ref={surface.canvasRef} className="edge-canvas" data-testid="graph-edges" aria-hidden="true" />
        <svg ref={svgRef} className="circuit-svg" data-testid="circuit-graph" />
        <div ref={surface.tipRef} className="edge-tip" data-testid="edge-tip" role="tooltip" hidden />
        <span className="zoom-hint muted" aria-hidden="true">scroll to zoom · drag to pan · Fit: whole graph</span>
      </div>
      <p className="muted graph-status" aria-live="polite">
        {message ?? cursorText ?? 'click a node or edge to ablate it · shift-click to inspect · colour = activation at the selected token'}
      </p>
    </section>
  );
}
