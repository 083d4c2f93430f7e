import { useEffect, useMemo } from 'react';
import type { CircuitFile } from '../../circuit/circuitSchema';
import { useThemeStore } from '../../state/themeStore';
import { highlight, type Palette, readPalette, styleGraph } from '../CircuitGraph/draw';
import { layoutCircuit } from '../CircuitGraph/layout';
import { useGraphSurface } from '../CircuitGraph/useGraphSurface';
import '../CircuitGraph/graph.css';

const NONE = new Map<string, number>();

/**
 * One side of the compare view: a circuit drawn by the explorer's own surface (canvas edges, SVG nodes, zoom, edge
 * tooltips), to look at only. Clicks change nothing here (the loaded model's graph is where ablations are made), and
 * hover stays within this graph: the two models share node names, not nodes.
 */
export function CompareGraph({ circuit, nLayer, dHead, side }: { circuit: CircuitFile; nLayer: number; dHead: number; side: string }) {
  const layout = useMemo(() => layoutCircuit(circuit, dHead, nLayer), [circuit, dHead, nLayer]);
  const themeVersion = useThemeStore((s) => s.version);
  const surface = useGraphSurface(layout, 0, themeVersion, {
    edgeClick: () => undefined,
    nodeClick: () => undefined,
    hover: (node, edge) => {
      const svg = surface.svgRef.current;
      if (svg) surface.edges.current?.setEmphasis(highlight(svg, layout, node, edge));
    },
  });
  useEffect(() => {
    const svg = surface.svgRef.current;
    if (!svg) return;
    const pal: Palette = readPalette(svg);
    styleGraph(svg, { value: NONE, baseline: NONE, ablatedNodes: new Set(), selected: null, active: null, pal });
  }, [layout, themeVersion, surface.svgRef]);
  return (
    <div className="graph-frame compare-frame" role="img" aria-label={`${side}: circuit graph, ${circuit.nodes.length} nodes, ${circuit.edges.length} edges`}>
      <canvas ref={surface.canvasRef} className="edge-canvas" data-testid={`compare-edges-${side}`} aria-hidden="true" />
      <svg ref={surface.svgRef} className="circuit-svg" data-testid={`compare-graph-${side}`} />
      <div ref={surface.tipRef} className="edge-tip" role="tooltip" hidden />
      <span className="zoom-hint muted" aria-hidden="true">scroll to zoom · drag to pan</span>
    </div>
  );
}
