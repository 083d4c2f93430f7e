import { useMemo } from 'react';
import { selectNode } from '../../state/explorerActions';
import { hoverStore, useExplorerStore } from '../../state/explorerStore';
import { useImportanceStore } from '../../state/importanceStore';
import { pairEffects, type ImportanceResult } from '../../worker/importance';

/** Entries shown at most: a search narrows a longer list. */
const MAX_SHOWN = 300;

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/**
 * The ranked list: nodes or edges, over all test pairs or on the selected pair only, filtered by a search. Hovering
 * (or focusing) an entry highlights it in the graph; clicking inspects it, as shift-click does in the graph (an edge:
 * its target).
 */
export function ImportanceList({ result }: { result: ImportanceResult }) {
  const show = useImportanceStore((s) => s.show);
  const scope = useImportanceStore((s) => s.scope);
  const query = useImportanceStore((s) => s.query);
  const pair = useExplorerStore((s) => s.pair);
  const selected = useExplorerStore((s) => s.node);
  const entries = show === 'nodes' ? result.nodes : result.edges;
  const perPair = scope === 'pair' && pair !== null && 2 * pair + 1 < result.circuit.diffs.length;
  const ranked = useMemo(
    () => (perPair ? pairEffects(result, entries, pair!) : entries.map((e) => ({ id: e.id, effect: e.effect }))),
    [result, entries, perPair, pair],
  );
  const q = query.trim().toLowerCase();
  const matches = useMemo(() => ranked.map((e, i) => ({ ...e, rank: i + 1 })).filter((e) => !q || e.id.toLowerCase().includes(q)), [ranked, q]);
  const most = Math.max(1e-9, ...ranked.map((e) => Math.abs(e.effect)));
  const hover = (id: string | null) => hoverStore.setState(show === 'nodes' ? { node: id, edge: null } : { node: null, edge: id });
  const pick = (id: string) => selectNode(show === 'nodes' ? id : id.slice(id.indexOf('>') + 1));

  return (
    <>
      <div className="row small">
        <fieldset className="seg">
          <legend>rank</legend>
          <label><input type="radio" name="imp-show" checked={show === 'nodes'} onChange={() => useImportanceStore.setState({ show: 'nodes' })} /> nodes ({result.nodes.length})</label>
          <label><input type="radio" name="imp-show" checked={show === 'edges'} onChange={() => useImportanceStore.setState({ show: 'edges' })} /> edges ({result.edges.length})</label>
        </fieldset>
        <fieldset className="seg">
          <legend>loss change on</legend>
          <label><input type="radio" name="imp-scope" checked={scope === 'all'} onChange={() => useImportanceStore.setState({ scope: 'all' })} /> all test pairs</label>
          <label title={pair === null ? 'select a test pair first' : undefined}>
            <input type="radio" name="imp-scope" checked={scope === 'pair'} onChange={() => useImportanceStore.setState({ scope: 'pair' })} />
            {' '}{pair === null ? 'the selected pair' : `pair ${pair + 1}`}
          </label>
        </fieldset>
      </div>
      {scope === 'pair' && !perPair && <p className="notice small">select a test pair to rank on it alone (a free prompt has no right answer)</p>}
      <input type="search" aria-label="Search the importance list" placeholder="search, e.g. 1.mlp" value={query}
        onChange={(e) => useImportanceStore.setState({ query: e.target.value })} />
      <ol className="importance-list" data-testid="importance-list" data-scope={perPair ? `pair ${pair}` : 'all'} data-show={show} onMouseLeave={() => hover(null)}>
        {matches.slice(0, MAX_SHOWN).map((e) => (
          <li key={e.id} data-id={e.id} data-effect={e.effect} data-rank={e.rank}>
            <button type="button" className={selected === e.id ? 'sel' : undefined} onMouseEnter={() => hover(e.id)} onFocus={() => hover(e.id)} onBlur={() => hover(null)}
              onClick={() => pick(e.id)} title={`rank ${e.rank}: task loss ${signed(e.effect)} when also ablated${show === 'edges' ? ' · click inspects its target' : ''}`}>
              <span className="rank">{e.rank}</span>
              <span className="id">{e.id.replace('>', ' → ')}</span>
              <span className="bar" aria-hidden="true"><span className={e.effect >= 0 ? 'pos' : 'neg'} style={{ width: `${(100 * Math.abs(e.effect)) / most}%` }} /></span>
              <span className="effect">{signed(e.effect)}</span>
            </button>
          </li>
        ))}
      </ol>
      {matches.length > MAX_SHOWN && <p className="muted small">{matches.length - MAX_SHOWN} more: narrow the search</p>}
      {matches.length === 0 && <p className="muted small">no entry matches</p>}
    </>
  );
}
