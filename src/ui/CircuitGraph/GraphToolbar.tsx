import { useMemo, useState } from 'react';
import type { NodeLabel } from '../../circuit/nodeLabels';
import { setEdgeThreshold } from '../../state/explorerActions';
import { hiddenByThreshold, type GraphLayout, type GNode } from './layout';
import { searchNodes } from './navigation';

interface Props {
  layout: GraphLayout;
  /** The threshold in effect (the user's, or the default for this graph). */
  threshold: number;
  totalNodes: number;
  onFind: (n: GNode) => void;
  /** The circuit's node labels (null while they load): the search matches them too. */
  labels: ReadonlyMap<string, NodeLabel> | null;
  /** The nodes the search found, to mark in the graph (empty: none). */
  onHits: (ids: ReadonlySet<string>) => void;
  onFit: () => void;
  onExport: (kind: 'svg' | 'png') => void;
}

/** Search, edge threshold with an honest hidden count, zoom-to-fit and image export. */
export function GraphToolbar({ layout, threshold, totalNodes, onFind, labels, onHits, onFit, onExport }: Props) {
  const [query, setQuery] = useState('');
  const [miss, setMiss] = useState(false);
  // The last search's matches and the one shown: Find again with the same text steps to the next match.
  const [found, setFound] = useState<{ query: string; layout: GraphLayout; ids: string[]; at: number } | null>(null);
  // Thousands of <option>s: built once per circuit (and once more when its labels arrive), not on every render.
  const options = useMemo(() => (
    <datalist id="graph-node-ids">{layout.nodes.map((n) => <option key={n.id} value={n.id} label={labels?.get(n.id)?.text} />)}</datalist>
  ), [layout, labels]);
  const hidden = hiddenByThreshold(layout, threshold);
  const maxW = layout.weightMagnitudes.at(-1) ?? 0;
  const hiddenNodes = totalNodes - layout.nodes.length;
  return (
    <div className="graph-toolbar">
      <form onSubmit={(e) => {
        e.preventDefault();
        const again = found && found.query === query && found.layout === layout && found.ids.length > 1;
        const ids = again ? found.ids : searchNodes(layout.nodes, query, (id) => labels?.get(id)?.text).map((n) => n.id);
        const at = again ? (found.at + 1) % ids.length : 0;
        const hit = ids[at] !== undefined ? layout.byId.get(ids[at]) : undefined;
        setMiss(!hit);
        setFound(hit ? { query, layout, ids, at } : null);
        onHits(new Set(ids));
        if (hit) onFind(hit);
      }}>
        <input aria-label="Find node" placeholder="find node (id or label)" value={query} list="graph-node-ids"
          title={'A node id or part of one (0.mlp.post_act:3, attn.q), or text of its label ("\'", h3, emb " if"). Find again: the next match.'}
          onChange={(e) => { setQuery(e.target.value); setMiss(false); setFound(null); onHits(new Set()); }} aria-invalid={miss} />
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
        {found?.layout === layout && <span data-testid="search-matches">{` · match ${found.at + 1} of ${found.ids.length}${found.ids.length > 1 ? ' (Find again: next)' : ''}`}</span>}
      </span>
      <button onClick={onFit}>Fit</button>
      <button onClick={() => onExport('svg')}>Export SVG</button>
      <button onClick={() => onExport('png')}>Export PNG</button>
    </div>
  );
}
