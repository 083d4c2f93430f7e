import { LABEL_TOKENS, labelNode, type EmbeddingTokens, type NodeLabel } from '../circuit/nodeLabels';
import type { FolderSource } from '../model/checkpoint/sources';
import { parseNodeId, siteSpec } from '../model/registry';
import { engineClient } from './actions';
import { loadSnippets, snippetTokenText, type SnippetsModelShape } from './snippets';

/**
 * Node labels for the page (circuit/nodeLabels.ts makes them): the model folder's snippets, read once per folder by
 * loadSnippets, and for residual channels the token embeddings, asked of the engine once per model and channel.
 */

/** The tokens whose embedding is largest and most negative in a residual channel, strongest first. */
export type EmbedLookup = (channel: number, k: number) => Promise<EmbeddingTokens>;

/** The engine's answer (it holds the weights): `embedTop`, as token texts. */
export const engineEmbedLookup: EmbedLookup = async (channel, k) => {
  const engine = engineClient();
  if (!engine) throw new Error('the engine has not started');
  const d = await engine.request('embedTop', { channel, k }).result;
  return { top: d.top.map((t) => t.text), bottom: d.bottom.map((t) => t.text) };
};

// Per model (the loaded model's summary object: a new load is a new object) and channel.
let embeddings = new WeakMap<object, Map<number, Promise<EmbeddingTokens>>>();

function embeddingOf(model: object, channel: number, embed: EmbedLookup): Promise<EmbeddingTokens> {
  let byChannel = embeddings.get(model);
  if (!byChannel) embeddings.set(model, (byChannel = new Map()));
  let p = byChannel.get(channel);
  if (!p) {
    p = embed(channel, LABEL_TOKENS);
    byChannel.set(channel, p);
    p.catch(() => byChannel.delete(channel)); // a failed answer is asked again next time
  }
  return p;
}

/**
 * Labels of `nodes` (ids) on the model in `folder`; a node without snippets or embedding has none. Rejects when the
 * snippet file cannot be read or an embedding lookup fails (the node panel shows the snippet file's own error).
 */
export async function loadNodeLabels(
  folder: FolderSource | string, model: SnippetsModelShape, nodes: readonly string[], embed: EmbedLookup | null,
): Promise<Map<string, NodeLabel>> {
  const refs = nodes.map((id) => ({ id, ...parseNodeId(id) }));
  const residual = new Set(refs.filter((r) => siteSpec(r.site).channels === 'residual').map((r) => r.channel));
  const [loaded, embedded] = await Promise.all([
    loadSnippets(folder, model),
    Promise.all([...residual].map(async (c) => [c, embed ? await embeddingOf(model, c, embed) : null] as const)),
  ]);
  const byChannel = new Map(embedded);
  const tokenText = loaded ? snippetTokenText(loaded.tokenizer) : () => '';
  const out = new Map<string, NodeLabel>();
  for (const r of refs) {
    const label = labelNode({
      node: r.id, dHead: model.dHead, tokenText,
      snippets: loaded?.file.forNode(r.site, r.channel) ?? null,
      embedding: byChannel.get(r.channel) ?? null,
    });
    if (label) out.set(r.id, label);
  }
  return out;
}

/** Forgets cached embeddings (tests). */
export function clearEmbeddingCache(): void {
  embeddings = new WeakMap();
}
