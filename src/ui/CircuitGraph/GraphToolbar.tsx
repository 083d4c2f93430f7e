import { useMemo, useState } from 'react';
import { setEdgeThreshold } from '../../state/explorerActions';
import { hiddenByThreshold, type GraphLayout, type GNode } from './layout';
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
  // Thousands of <option>s: built once per circuit, not on every render of the toolbar.
  const options = useMemo(() => <datalist id="graph-node-ids">{layout.nodes.map((n) => <option key={n.id} value={n.id} />)}</datalist>, [layout]);
  const hidden = hiddenByThreshold(layout, threshold);
  const maxW = layout.weightMagnitudes.at(-1) ?? 0;
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
        {options}
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
