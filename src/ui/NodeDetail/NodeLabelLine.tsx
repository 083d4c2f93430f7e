import { useMemo } from 'react';
import { quoteToken } from '../../circuit/nodeLabels';
import { useNodeLabels } from '../shared/useNodeLabels';

/**
 * The node's automatic label (circuit/nodeLabels.ts) and what it was made from. It summarises where the node is most
 * active; it does not explain the node.
 */
export function NodeLabelLine({ node }: { node: string }) {
  const nodes = useMemo(() => [node], [node]);
  const label = useNodeLabels(nodes)?.get(node);
  if (!label) return null;
  const dir = label.sign === '−' ? 'most negative' : 'top';
  const from = [
    label.snippets ? `focus tokens of its ${label.snippets} ${dir} held-out snippets` : null,
    label.sign ? `its largest values are ${label.sign === '+' ? 'positive' : 'negative'}` : null,
    label.embedding ? `token embeddings ${label.sign === '−' ? 'most negative' : 'largest'} in this residual channel: ${label.embedding.map(quoteToken).join(' ')}` : null,
  ].filter((s) => s !== null);
  return (
    <p className="small node-label" data-testid="node-label" data-node={node} title={`Automatic label from ${from.join('; ')}. It summarises top activations; it is not an explanation.`}>
      <span className="muted">label </span>{label.text}
    </p>
  );
}
