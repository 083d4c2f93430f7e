import { useMemo, useState } from 'react';
import type { z } from 'zod';
import type { circuitEdgeSchema } from '../../circuit/circuitSchema';
import { ablateEdge, selectNode } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { hasEdge } from '../../state/interventionOps';
import { useLiveStore } from '../../state/liveStore';
import { isAblatableEdge } from '../CircuitGraph/layout';

type CircuitEdge = z.infer<typeof circuitEdgeSchema>;
const NO_EDGES: CircuitEdge[] = [];

/** The node's incoming and outgoing circuit edges, strongest first; ablate an edge or jump to the other node. */
export function EdgeList({ node }: { node: string }) {
  const edges = useLiveStore((s) => s.circuit?.edges ?? NO_EDGES);
  const list = useExplorerStore((s) => s.iv.present);
  const [showAll, setShowAll] = useState(false);
  const limit = showAll ? 500 : 10;
  // Circuits can have 10^5 edges: scan them once per node, not on every intervention.
  const [incoming, outgoing] = useMemo(() => {
    const byStrength = (a: CircuitEdge, b: CircuitEdge) => Math.abs(b.weight) - Math.abs(a.weight);
    return [edges.filter((e) => e.target === node).sort(byStrength), edges.filter((e) => e.source === node).sort(byStrength)];
  }, [edges, node]);
  const table = (title: string, rows: typeof edges, other: 'source' | 'target') => (
    <div>
      <h3 className="small">{title} ({rows.length})</h3>
      {rows.length === 0 && <p className="muted small">none in the circuit</p>}
      <table className="edges small"><tbody>
        {rows.slice(0, limit).map((e) => {
          const off = hasEdge(list, e.source, e.target);
          return (
            <tr key={`${e.source}>${e.target}`}>
              <td><button className="linklike" onClick={() => selectNode(e[other])}>{e[other]}</button></td>
              <td className={e.weight >= 0 ? 'pos' : 'neg'}>{e.kind === 'weight' ? e.weight.toFixed(3) : e.kind}</td>
              <td>{isAblatableEdge(e.source, e.target) && (
                <button onClick={() => ablateEdge(e.source, e.target)} aria-pressed={off}>{off ? 'restore' : 'ablate'}</button>
              )}</td>
            </tr>
          );
        })}
      </tbody></table>
      {rows.length > limit && (
        <p className="muted small">{rows.length - limit} weaker edges not listed{' '}
          {!showAll && <button className="linklike" onClick={() => setShowAll(true)}>show up to 500</button>}</p>
      )}
    </div>
  );
  return <div className="edge-lists">{table('inputs', incoming, 'source')}{table('outputs', outgoing, 'target')}</div>;
}
