import { useState } from 'react';
import { setEdgeThreshold } from '../../state/explorerActions';
import type { GraphLayout, GNode } from './layout';
import { searchNodes } from './navigation';

interface Props {
  layout: GraphLayout;
  /** The threshold in effect (the user's, or the default for this graph). */
  threshold: number;
  totalNodes: number;
  onFind: (n: GNode) => void;
  onFit: () => void;
  onExport: (kind: 'svg' | 'png') => void;
}

/** Search, edge threshold with an honest hidden count, zoom-to-fit and image export. */
export function GraphToolbar({ layout, threshold, totalNodes, onFind, onFit, onExport }: Props) {
  const [query, setQuery] = useState('');
  const [miss, setMiss] = useState(false);
  const weightEdges = layout.edges.filter((e) => e.kind === 'weight');
  const hidden = weightEdges.filter((e) => Math.abs(e.weight) < threshold).length;
  const maxW = weightEdges.reduce((m, e) => Math.max(m, Math.abs(e.weight)), 0); // no spread: circuits can have 10^5 edges
  const hiddenNodes = totalNodes - layout.nodes.length;
  return (
    <div className="graph-toolbar">
      <form onSubmit={(e) => {
        e.preventDefault();
        const hit = searchNodes(layout.nodes, query)[0];
        setMiss(!hit);
        if (hit) onFind(hit);
      }}>
        <input aria-label="Find node" placeholder="find node, e.g. 0.mlp.post_act:3" value={query} list="graph-node-ids"
          onChange={(e) => { setQuery(e.target.value); setMiss(false); }} aria-invalid={miss} />
        <datalist id="graph-node-ids">{layout.nodes.map((n) => <option key={n.id} value={n.id} />)}</datalist>
        <button type="submit">Find</button>
      </form>
      <label>
        min |weight|{' '}
        <input type="range" aria-label="Edge weight threshold" min={0} max={maxW || 1} step={(maxW || 1) / 100} value={threshold}
          onChange={(e) => setEdgeThreshold(Number(e.target.value))} />
      </label>
      <span className="muted" data-testid="hidden-count" role="status">
        {layout.nodes.length} nodes, {layout.edges.length - hidden} of {layout.edges.length} edges shown
        {hidden > 0 && ` · ${hidden} hidden by threshold`}
        {hiddenNodes > 0 && ` · ${hiddenNodes} nodes not drawn`}
        {layout.orphanEdges > 0 && ` · ${layout.orphanEdges} edges name nodes outside the circuit`}
        {miss && ' · no such node'}
      </span>
      <button onClick={onFit}>Fit</button>
      <button onClick={() => onExport('svg')}>Export SVG</button>
      <button onClick={() => onExport('png')}>Export PNG</button>
    </div>
  );
}
