import { useAppStore } from '../../state/appStore';
import { ComputeMeans } from './ComputeMeans';
import { MemoryReadout } from './MemoryReadout';

/** The mean-ablation row: whether the model has means, and where means computed in the page came from. */
function meansText(hasMeans: boolean, card: Record<string, unknown>): string {
  if (!hasMeans) return 'unavailable (no means.safetensors)';
  const m = card.means as { source?: unknown; corpus_tokens?: unknown; windows?: unknown; window_tokens?: unknown } | null | undefined;
  if (m?.source !== 'text') return 'available';
  return `available (means computed here from ${Number(m.corpus_tokens).toLocaleString('en-US')} tokens of text, ${m.windows} windows of ${m.window_tokens})`;
}

/** Shape, sparsity and provenance of the loaded model. */
export function ModelInfo() {
  const model = useAppStore((s) => s.model);
  if (!model) return null;
  const card = (model.card ?? {}) as Record<string, unknown>;
  const rows: [string, string][] = [
    ['model', model.id],
    ['layers × d_model', `${model.nLayer} × ${model.dModel}`],
    ['heads × d_head', `${model.nHead} × ${model.dHead}`],
    ['d_mlp', String(model.dMlp)],
    ['nonzero weights', `${model.nonzeroWeights.toLocaleString()} of ${model.totalWeights.toLocaleString()} (1/${(model.totalWeights / Math.max(1, model.nonzeroWeights)).toFixed(1)})`],
    ['mean ablation', meansText(model.hasMeans, card)],
    ['weights in memory', model.memory.text],
  ];
  if (model.edgePruneUnsupported) rows.push(['pruning by edges', model.edgePruneUnsupported]);
  for (const key of ['kind', 'tokens_trained', 'val_loss']) {
    if (card[key] !== undefined) rows.push([key, String(card[key])]);
  }
  return (
    <section className="panel" aria-label="Model information" data-testid="model-info">
      <h2>Model</h2>
      <table className="card-table"><tbody>{rows.map(([k, v]) => <tr key={k}><td className="muted">{k}</td><td>{v}</td></tr>)}<MemoryReadout /></tbody></table>
      <ComputeMeans />
    </section>
  );
}
