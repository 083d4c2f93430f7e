import { isSiteName, parseSite, siteKind } from '../../model/registry';
import { useAppStore } from '../../state/appStore';
import { ablateNode, selectNode } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { hasNode } from '../../state/interventionOps';
import { useLiveStore } from '../../state/liveStore';
import { nodeSeries, useReferenceLabel, variantOf } from '../shared/liveSelectors';
import { AttentionPattern } from './AttentionPattern';
import { EdgeList } from './EdgeList';
import { EmbeddingView } from './EmbeddingView';
import { NodeLabelLine } from './NodeLabelLine';
import { TokenHeatmap } from './TokenHeatmap';
import { TopSnippets } from './TopSnippets';

/**
 * The inspected node: its value on every token (now and in the reference), where it is largest on held-out code, its
 * edges, and what it reads or attends to.
 */
export function NodeDetail() {
  const node = useExplorerStore((s) => s.node);
  const list = useExplorerStore((s) => s.iv.present);
  const detailed = useLiveStore((s) => s.detailed);
  const circuit = useLiveStore((s) => s.circuit);
  const model = useAppStore((s) => s.model);
  const refLabel = useReferenceLabel();
  if (!node || !model) {
    return <section className="panel" aria-label="Node detail"><h2>Node</h2><p className="muted small">shift-click a node in the graph (or press Space on it) to inspect it</p></section>;
  }
  const i = node.lastIndexOf(':');
  const site = node.slice(0, i);
  const channel = Number(node.slice(i + 1));
  const where = isSiteName(site) ? parseSite(site) : null;
  const layer = where?.layer ?? null;
  const channels = where ? siteKind(where.kind).channels : null;
  const qkv = channels === 'head'; // channel c belongs to head floor(c / d_head): its attention pattern is shown
  const residual = channels === 'residual';
  const cur = nodeSeries(detailed, variantOf(detailed, 'current'), node);
  const ref = nodeSeries(detailed, variantOf(detailed, refLabel), node);
  const inCircuit = circuit?.nodes.find((n) => n.site === site && n.channel === channel);
  return (
    <section className="panel" aria-label="Node detail" data-testid="node-detail" data-node={node}>
      <h2>Node {node}</h2>
      <NodeLabelLine node={node} />
      <p className="small">
        {qkv && `head ${Math.floor(channel / model.dHead)} · `}
        {inCircuit ? `in the circuit${inCircuit.score !== undefined ? ` (score ${inCircuit.score.toFixed(3)})` : ''}` : 'not in the circuit'}
        {' · '}
        <button onClick={() => ablateNode(node)}>{hasNode(list, node) ? 'Restore' : 'Ablate'}</button>{' '}
        <button onClick={() => selectNode(null)} aria-label="Close node detail">Close</button>
      </p>
      {detailed && cur ? <TokenHeatmap tokens={detailed.tokens} current={cur} reference={ref} refLabel={refLabel} /> : <p className="muted small">running…</p>}
      <TopSnippets node={node} />
      <EdgeList node={node} />
      {qkv && layer !== null && <AttentionPattern layer={layer} head={Math.floor(channel / model.dHead)} />}
      {residual && <EmbeddingView channel={channel} />}
    </section>
  );
}
