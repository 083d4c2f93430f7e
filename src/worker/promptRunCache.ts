import type { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { latestStart, siteStage, stageKeys } from '../model/stages';
import { ResidualCache, type CacheEntry } from './residualCache';
import { runPromptStages, type PromptReads } from './promptStages';

/** What the live view reads of one prompt under one intervention list. */
export interface PromptResult {
  lastLogits: Float32Array;
  sites: Map<string, Float32Array>;
  attention: Map<number, Float32Array>;
  /** The stage the run started at (0: from the tokens), or null when the list's result was already at hand. */
  fromStage: number | null;
}

/** Device bytes of residual streams kept for one prompt's toggles (the least recently used go first). */
const PROMPT_CACHE_BYTES = 128 * 2 ** 20;

/**
 * The explorer's live runs of one prompt, incremental (the mechanism of stagedTaskEval.ts for task metrics): the
 * residual stream entering each stage is kept per intervention list (residualCache.ts), so a toggle reruns only the
 * stages from the first one its list changes (stages.ts), and a list seen before is answered from its kept result. A
 * new prompt, model or set of reads starts afresh (the kept streams and site values belong to them).
 */
export class PromptRunCache {
  private readonly streams = new ResidualCache(PROMPT_CACHE_BYTES);
  private readonly results = new WeakMap<CacheEntry, Omit<PromptResult, 'fromStage'>>();
  private context = '';

  constructor(readonly model: SparseGpt) {}

  async run(ids: readonly number[], list: readonly Intervention[], reads: PromptReads): Promise<PromptResult> {
    const c = this.model.config;
    const context = JSON.stringify([ids, [...reads.sites].sort(), [...reads.attentionLayers].sort((a, b) => a - b)]);
    if (context !== this.context) {
      this.streams.clear();
      this.context = context;
    }
    const keys = stageKeys(c, list);
    const start = this.streams.start(keys, latestStart(c, list));
    const same = start.same && this.results.get(start.same);
    if (same) return { ...same, fromStage: null };
    const source = start.source ? this.results.get(start.source) : undefined;
    const from = source ? start.from : 0;
    const run = await runPromptStages(this.model, ids, list, reads, from, from > 0 ? start.source!.stages.get(from)![0] : undefined);
    // What stages before `from` recorded is the source's: they are the same stages under the same list entries.
    const sites = new Map<string, Float32Array>(run.sites);
    const attention = new Map(run.attention);
    if (source) {
      for (const [s, v] of source.sites) if (siteStage(c, s as never) < from) sites.set(s, v);
      for (const [l, v] of source.attention) if (2 * l < from) attention.set(l, v);
    }
    const result = { lastLogits: run.lastLogits, sites, attention };
    const entry: CacheEntry = { keys, stages: new Map([...run.entering].map(([s, t]) => [s, [t]])), diffs: new Float32Array(0) };
    this.streams.add(entry);
    this.results.set(entry, result);
    return { ...result, fromStage: from };
  }

  /** Tensors held. */
  get heldTensors(): number {
    return this.streams.tensors;
  }

  dispose(): void {
    this.streams.clear();
    this.context = '';
  }
}
