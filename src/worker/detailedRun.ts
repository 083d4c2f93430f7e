import { parseNodeId, siteWidth, type SiteName } from '../model/sites';
import type { BpeTokenizer } from '../tokenizer/bpe';
import type { PromptRunCache } from './promptRunCache';
import type { DetailedResult, DetailedVariantResult, PromptInput, Variant } from './protocol';
import { topPredictions } from './topPredictions';
import { yieldToMessages } from './yieldToMessages';

export interface DetailedRequest {
  input: PromptInput;
  variants: Variant[];
  nodes: string[];
  attentionLayers: number[];
  targets: [number, number] | null;
  topK: number;
}

/**
 * One prompt under several variants (full model, circuit, current interventions): the two target logits, top
 * predictions, the value of each requested node at every position and the requested layers' attention patterns.
 * Whole sites are recorded and sliced here so only the few requested channels cross to the page. `checkLength` refuses
 * a prompt longer than the loaded model's memory plan covers. Runs go through `runs` (promptRunCache.ts): a variant
 * whose list was run before on this prompt is answered as it was, and a toggled one reruns only from the stage it
 * changes.
 */
export async function runDetailed(
  runs: PromptRunCache, tokenizer: BpeTokenizer, req: DetailedRequest, signal: AbortSignal, checkLength?: (tokens: number) => void,
): Promise<DetailedResult> {
  const t0 = performance.now();
  const c = runs.model.config;
  const ids = 'tokens' in req.input ? req.input.tokens : tokenizer.encode(req.input.text);
  if (ids.length === 0) throw new Error('the prompt is empty');
  if (ids.length > c.blockSize) throw new Error(`the prompt is ${ids.length} tokens long; this model's context holds ${c.blockSize}`);
  checkLength?.(ids.length); // the memory plan's limit too (promptLimit.ts)
  const T = ids.length;
  const refs = req.nodes.map((id) => ({ id, ...parseNodeId(id) }));
  for (const r of refs) if (r.channel >= siteWidth(c, r.site)) throw new Error(`node ${r.id} is outside this model (site width ${siteWidth(c, r.site)})`);
  const sites = [...new Set(refs.map((r) => r.site))] as SiteName[];
  const layers = req.attentionLayers.filter((l) => Number.isInteger(l) && l >= 0 && l < c.nLayer);

  const variants: DetailedVariantResult[] = [];
  for (const v of req.variants) {
    await yieldToMessages();
    signal.throwIfAborted();
    const out = await runs.run(ids, v.interventions, { sites, attentionLayers: layers });
    const last = out.lastLogits;
    const values = new Float32Array(refs.length * T);
    refs.forEach((r, i) => {
      const w = siteWidth(c, r.site);
      const data = out.sites.get(r.site)!;
      for (let t = 0; t < T; t++) values[i * T + t] = data[t * w + r.channel]!;
    });
    variants.push({
      label: v.label,
      targets: req.targets ? { correct: last[req.targets[0]]!, alternative: last[req.targets[1]]!, ids: req.targets } : null,
      top: topPredictions(last, req.topK).map((p) => ({ ...p, text: tokenizer.tokenString(p.id) })),
      values,
      attention: Object.fromEntries(out.attention),
    });
  }
  return { tokens: ids.map((id) => ({ id, text: tokenizer.tokenString(id) })), nodes: refs.map((r) => r.id), variants, millis: performance.now() - t0 };
}
